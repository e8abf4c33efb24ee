"""A hash index of the truth ids, built once per prepared truth, to align predictions fast.

``IdIndex.locate(ids)`` gives the truth row of every prediction id when the ids are exactly a
permutation of the truth ids, and None otherwise (an unknown, repeated or missing id, an id
longer than ``MAX_ID_BYTES``): the caller then takes the exact, slower path that also words
the participant's message. A match is never a hash match alone: the probe compares the ids'
bytes and lengths.

Each id's bytes are read as ``width`` 64-bit words, zero-padded (the ``keys``; the length
tells ``"a"`` from ``"a\\0"``). The table is open addressing with linear probing, at most
half full, of ``row + 1`` (0: empty), placed by a multiply-xorshift hash of the words. No
Python loop runs per row. bench/bench_evaluate_large.py, 3M shuffled rows: ``locate`` takes
about 0.4 s of CPU where pyarrow's ``index_in`` took 1.2 s, as it rebuilds its hash table of
the truth ids on every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

MAX_ID_BYTES = 32
_K0, _K1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xFF51AFD7ED558CCD)
_K2 = np.uint64(0xC4CEB9FE1A85EC53)
_EMPTY = np.zeros(1, np.uint64)
_MASKS = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def id_keys(ids: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(words, lengths)``: each id's bytes as ``width`` little-endian words (zero-padded,
    shape (n, width)) and its length in bytes; None if some id is longer than ``8 * width``."""
    wide = pa.types.is_large_string(ids.type) or pa.types.is_large_binary(ids.type)
    offsets = np.frombuffer(
        ids.buffers()[1],
        np.int64 if wide else np.int32,
        len(ids) + 1,
        ids.offset * (8 if wide else 4),
    )
    lengths = np.diff(offsets)
    if len(ids) and int(lengths.max()) > 8 * width:
        return None
    windows, body, tail = _windows(ids.buffers()[2], int(offsets[-1]))
    words = np.empty((len(ids), width), np.uint64)
    for j in range(width):
        at = offsets[:-1] + 8 * j
        # Offsets ascend: only the last few ids start too near the end for ``windows``.
        split = int(np.searchsorted(at, body))
        word = words[:, j]
        word[:split] = windows[at[:split]]
        word[split:] = tail[np.minimum(at[split:] - body, len(tail) - 1)]
        word &= _MASKS[np.clip(lengths - 8 * j, 0, 8)]
    return words, lengths.astype(np.int32, copy=False)


def _windows(buffer: pa.Buffer | None, size: int) -> tuple[np.ndarray, int, np.ndarray]:
    """The 8 bytes from each start byte of the data, as unaligned views (copying the data
    would cost a page fault per 4 KB: 10% of ``locate`` on 3M ids): ``windows`` for the
    ``body`` starts up to ``size - 8``, ``tail`` (zero-padded) for the starts after."""
    raw = (
        np.empty(0, np.uint8)
        if buffer is None or not size
        else np.frombuffer(buffer, np.uint8, size)
    )
    body = max(size - 7, 0)
    windows = np.ndarray((body,), np.dtype("<u8"), raw, strides=(1,)) if body else _EMPTY
    padded = np.concatenate([raw[body:], np.zeros(MAX_ID_BYTES + 16, np.uint8)])
    tail = np.ndarray((len(padded) - 7,), np.dtype("<u8"), padded, strides=(1,))
    return windows, body, tail


def _hash(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    h = lengths.astype(np.uint64)
    h *= _K0
    shifted = np.empty_like(h)  # one scratch array: no temporary per step
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= _K1
        h ^= np.right_shift(h, np.uint64(31), out=shifted)
    h *= _K2
    h ^= np.right_shift(h, np.uint64(29), out=shifted)
    return h


@dataclass(frozen=True)
class IdIndex:
    """The truth ids, their words (one contiguous array per word), lengths and hash table."""

    ids: pa.Array
    words: tuple[np.ndarray, ...]
    lengths: np.ndarray
    table: np.ndarray  # int32: truth row + 1, 0 where empty; a power of two long

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, ids: pa.Array) -> IdIndex | None:
        """The index of distinct ``ids``, or None when some id is longer than ``MAX_ID_BYTES``."""
        keys = id_keys(ids, MAX_ID_BYTES // 8)
        if keys is None:
            return None
        width = max(1, (int(keys[1].max(initial=0)) + 7) // 8)
        keys = keys[0][:, :width], keys[1]
        words, lengths = keys
        table = np.zeros(1 << max(4, (2 * len(ids)).bit_length()), np.int32)
        _insert(table, _hash(words, lengths))
        columns = tuple(np.ascontiguousarray(words[:, j]) for j in range(words.shape[1]))
        return cls(ids, columns, lengths, table)

    def arrays(self) -> dict[str, np.ndarray]:
        """The index as named arrays (``from_arrays`` reads them back), e.g. to save."""
        words = {f"word{j}": column for j, column in enumerate(self.words)}
        return {"table": self.table, "lengths": self.lengths, **words}

    @classmethod
    def from_arrays(cls, ids: pa.Array, arrays: dict[str, np.ndarray]) -> IdIndex:
        words = tuple(arrays[f"word{j}"] for j in range(len(arrays) - 2))
        return cls(ids, words, arrays["lengths"], arrays["table"])

    def locate(self, ids: pa.Array) -> np.ndarray | None:
        """The truth row of each of ``ids`` if they are exactly a permutation of the truth
        ids, else None."""
        if len(ids) != len(self.ids):
            return None
        keys = id_keys(ids, len(self.words))
        if keys is None:
            return None
        rows = self._probe(*keys)
        if rows is None:
            return None
        seen = np.zeros(len(self.ids), bool)
        seen[rows] = True
        return rows if seen.all() else None  # n ids on n distinct truth rows: none repeated

    def _probe(self, words: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
        """The truth row holding each id, or None if some id is not in the truth."""
        mask = len(self.table) - 1
        slot = _home(self.table, _hash(words, lengths))
        rows = self._compare(slot, words, lengths)  # most ids sit in their home slot
        if rows is None:
            return None
        todo = np.flatnonzero(rows < 0)
        while len(todo):
            slot[todo] = (slot[todo] + 1) & mask
            found = self._compare(slot[todo], words[todo], lengths[todo])
            if found is None:
                return None
            rows[todo] = found
            todo = todo[found < 0]
        return rows

    def _compare(self, slot: np.ndarray, words: np.ndarray, lengths: np.ndarray) -> Any:
        """The truth row in each slot if it holds the same id, -1 if another; None when a
        slot is empty (the id is not in the truth). In place where it can: every 24 MB
        temporary costs page faults (bench/bench_evaluate_large.py)."""
        found = self.table[slot].astype(np.intp)
        if not found.all():
            return None
        found -= 1
        same = self.lengths[found] == lengths
        for j, column in enumerate(self.words):
            same &= column[found] == words[:, j]
        np.invert(same, out=same)
        found[same] = -1
        return found


def _home(table: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """The home slot of each hash (its top bits), computed in place in ``hashes``."""
    hashes >>= np.uint64(64 - (len(table).bit_length() - 1))
    return hashes.view(np.int64)


def _insert(table: np.ndarray, hashes: np.ndarray) -> None:
    """Place row i at the first free slot from its home slot on (vectorised rounds: of the
    rows aiming at one free slot the lowest row wins, the others move one slot on)."""
    mask = len(table) - 1
    slot = _home(table, hashes)
    todo = np.arange(len(hashes))
    while len(todo):
        free = table[slot[todo]] == 0
        aiming = todo[free]
        taken, first = np.unique(slot[aiming], return_index=True)
        table[taken] = aiming[first] + 1
        placed = np.zeros(len(hashes), bool)
        placed[aiming[first]] = True
        todo = todo[~placed[todo]]
        slot[todo] = (slot[todo] + 1) & mask
