"""Arrow <-> numpy without pandas.

pyarrow imports pandas (a quarter of a second) the first time one of its own converters runs
(``pa.array``, ``pa.scalar``, ``.to_numpy()``, compute calls given Python values), so the
scoring path crosses between arrow and numpy through these helpers, which work on arrow's
buffers directly.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NUMPY_TYPES = {
    pa.int8(): np.int8,
    pa.uint8(): np.uint8,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.float64(): np.float64,
}


def as_numpy(values: pa.Array | pa.ChunkedArray, fill: float = 0) -> np.ndarray:
    """A number or boolean arrow column as numpy (zero-copy when it can), nulls as ``fill``."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == pa.bool_():  # bit-packed in arrow: widen to one byte per value
        return as_numpy(values.cast(pa.uint8()), fill=fill).view(bool)
    dtype = np.dtype(NUMPY_TYPES[values.type])
    if not len(values):
        return np.empty(0, dtype)
    out = np.frombuffer(values.buffers()[1], dtype, len(values), values.offset * dtype.itemsize)
    if values.null_count:
        valid = np.frombuffer(values.buffers()[0], np.uint8)
        valid = np.unpackbits(valid, bitorder="little")[values.offset : values.offset + len(out)]
        out = np.where(valid.view(bool), out, fill)
    return out


def from_numpy(values: np.ndarray) -> pa.Array:
    """A 1-D numpy array of numbers as an arrow array (zero-copy when contiguous)."""
    if values.dtype == bool:  # arrow packs booleans into bits: these bytes would be misread
        raise TypeError("from_numpy takes numbers, not booleans")
    values = np.ascontiguousarray(values)
    buffers = [None, pa.py_buffer(values)]
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), buffers)


def text_array(values: Iterable[str]) -> pa.Array:
    """Python strings as an arrow text array."""
    data = [str(value).encode() for value in values]
    offsets = np.cumsum([0, *map(len, data)], dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(pa.string(), len(data), buffers)


def text_scalar(value: str) -> pa.Scalar:
    return text_array([value])[0]


def label_values(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Text as a numpy array of Python ``str``, built once per distinct value."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    return np.array(encoded.dictionary.to_pylist(), dtype=object)[as_numpy(encoded.indices)]
