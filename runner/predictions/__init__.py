"""Read a participant's predictions CSV and validate it before any metric runs.

``read_predictions`` checks, in order, each ending in a ``PredictionsError`` whose message is
safe to show the participant (it names the problem, the first offending lines and ids, and how
to fix it, and never a truth value):

* the file itself (``source``): a regular file, not a link, FIFO or device, within the size
  cap, not empty; its first line UTF-8 (not gzip, zip or UTF-16), ended by LF or CRLF, naming
  exactly the declared columns;
* its CSV structure and cell types (``csvread``): pyarrow's multi-threaded reader, and when it
  refuses the file, a bounded diagnosis naming the first bad line (not UTF-8, a row over
  8 MB or a quote never closed, the wrong number of fields, a cell that is not a number);
* the row cap, then the ids (``ids``): duplicates, ids not in the test set (with a hint when
  ``1.0`` was written for ``1``), missing ids;
* the values (``values``): NaN/inf, probabilities outside [0, 1], unknown labels.

Line numbers are the file's, with the header on line 1. When the truth ids are given (an
array, a sequence, or the truth's ``IdIndex``), the returned ``Predictions`` are in truth order
(row i predicts truth row i), so scoring needs no further join.

pandas is never imported here (it costs a quarter second of every evaluation): only
``Predictions.to_pandas`` loads it, for a challenge's own ``scoring.py``. pyarrow's own
converters (``pa.array``, ``pa.scalar``, ``to_numpy``, compute calls given Python values) import
pandas on first use, so arrays cross between arrow and numpy through ``runner.arrow``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from runner.arrow import label_values, text_array
from runner.models import PredictionsSpec
from runner.predictions.csvread import NUMBER, first_invalid_utf8, read_table
from runner.predictions.ids import match_ids
from runner.predictions.index import IdIndex
from runner.predictions.source import (
    check_header,
    expected_header,
    has_rows,
    header_text,
    open_bytes,
)
from runner.predictions.text import fail
from runner.predictions.values import check_values

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NUMBER",
    "IdIndex",
    "Predictions",
    "check_file",
    "expected_header",
    "first_invalid_utf8",
    "read_predictions",
]


@dataclass(frozen=True)
class Predictions:
    """Validated predictions: ids as arrow text, each declared column as a numpy array
    (float64 for probabilities and numbers, Python ``str`` objects for labels), in spec order."""

    id_column: str
    ids: pa.Array
    columns: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    def to_pandas(self) -> pd.DataFrame:
        """The frame a challenge's ``scoring.py`` receives: ``str`` ids and labels, float64
        numbers (imports pandas: keep it off the registry-metric path)."""
        import pandas as pd

        data = {self.id_column: pd.array(self.ids, dtype="str")}
        for name, values in self.columns.items():
            data[name] = pd.array(values, dtype="str") if values.dtype == object else values
        return pd.DataFrame(data, copy=False)


def read_predictions(
    path: Path,
    spec: PredictionsSpec,
    truth_ids: IdIndex | pa.Array | Sequence[str] | None = None,
    *,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> Predictions:
    """The validated predictions: the id column (text) and the declared columns.

    Raises ``PredictionsError`` (participant-safe ``message``) for any problem; never reads
    more than the size cap, and never an unbounded line, into memory.
    """
    path = Path(path)
    data = open_bytes(path, spec.max_bytes if max_bytes is None else max_bytes, spec)
    check_header(path, data, spec)
    table = read_table(path, data, spec) if has_rows(data) else None
    if table is None or table.num_rows == 0:
        count = f" ({len(truth_ids)} rows)" if truth_ids is not None else ""
        fail(
            path, f"the predictions file has a header but no rows; write one row per test id{count}"
        )
    if max_rows is not None and table.num_rows > max_rows:
        fail(path, f"the predictions file has {table.num_rows} rows, over the limit of {max_rows}")
    ids = table.column(spec.id_column).combine_chunks()
    truth = _truth_ids(truth_ids, ids.type)
    order = match_ids(path, ids, truth)
    columns = {c.name: check_values(path, c, table.column(c.name), ids) for c in spec.columns}
    return _reorder(spec, ids, columns, truth, order)


def check_file(path: Path, spec: PredictionsSpec, *, max_bytes: int | None = None) -> None:
    """The checks that come before any CSV parser sees the file (``read_predictions`` runs
    them first): a regular file, not a link, FIFO or device, 1 byte to the size cap, not an
    archive or UTF-16, a first line ended by LF or CRLF, without NUL, in UTF-8. Raises
    ``PredictionsError``; a file that passes is safe to hand to ``csv`` and pyarrow."""
    path = Path(path)
    data = open_bytes(path, spec.max_bytes if max_bytes is None else max_bytes, spec)
    try:
        header_text(path, data, spec)
    finally:
        data.close()


def _truth_ids(values: Any, id_type: pa.DataType) -> pa.Array | IdIndex | None:
    if values is None or isinstance(values, IdIndex):
        return values
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return (values if isinstance(values, pa.Array) else text_array(values)).cast(id_type)


def _reorder(
    spec: PredictionsSpec,
    ids: pa.Array,
    columns: dict,
    truth: pa.Array | IdIndex | None,
    order: np.ndarray | None,
) -> Predictions:
    """In truth order when ``order`` (file row of each truth id) is given, else file order."""
    columns = {
        name: label_values(values) if isinstance(values, pa.Array) else values
        for name, values in columns.items()
    }
    if order is not None:
        ids = truth.ids if isinstance(truth, IdIndex) else truth
        columns = {name: values[order] for name, values in columns.items()}
    return Predictions(spec.id_column, ids, columns)
