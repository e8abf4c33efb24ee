"""A hash index of the truth ids, built once per prepared truth, to align predictions fast.

``IdIndex.locate(ids)`` gives the truth row of every prediction id when the ids are exactly a
permutation of the truth ids, and None otherwise (an unknown, repeated or missing id, an id
that is not short ASCII text): the caller then takes the exact, slower path that also words
the participant's message. A match is never a hash match alone: the probe compares the ids'
bytes and lengths.

Ids of at most ``MAX_ID_BYTES`` ASCII bytes are padded with NUL to ``8 * width`` bytes by
pyarrow and read as ``width`` 64-bit words (the ``keys``; the length tells ``"a"`` from
``"a\\0"``). The table is open addressing with linear probing, at most half full, of
``row + 1`` (0: empty), placed by a multiply-xorshift hash of the words. No Python loop runs
per row. bench/bench_evaluate_large.py, 3M shuffled rows: ``locate`` about 0.3 s where
pyarrow's ``index_in`` takes 1.0-1.5 s, as it rebuilds its hash table of the truth ids on
every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from runner.arrow import as_numpy

MAX_ID_BYTES = 32
_K0, _K1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xFF51AFD7ED558CCD)
_K2 = np.uint64(0xC4CEB9FE1A85EC53)


def id_keys(ids: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(words, lengths)``: each id as ``width`` little-endian words (NUL-padded, shape
    (n, width)) and its length in bytes; None if some id is not ASCII or is too long."""
    if len(ids) == 0:
        return np.zeros((0, width), np.uint64), np.zeros(0, np.int32)
    try:
        # Padding counts characters: any non-ASCII id comes out longer, and the cast refuses it.
        fixed = pc.utf8_rpad(ids, width=8 * width, padding="\0").cast(pa.binary(8 * width))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if fixed.null_count:
        return None
    words = np.frombuffer(fixed.buffers()[1], np.uint64, len(ids) * width, fixed.offset * 8 * width)
    return words.reshape(len(ids), width), as_numpy(pc.binary_length(ids))


def _hash(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    h = lengths.astype(np.uint64) * _K0
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= _K1
        h ^= h >> np.uint64(31)
    h *= _K2
    h ^= h >> np.uint64(29)
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
        """The index of distinct ``ids``, or None when some id is not short ASCII text."""
        longest = int(pc.max(pc.binary_length(ids)).as_py() or 0) if len(ids) else 0
        if longest > MAX_ID_BYTES:
            return None
        keys = id_keys(ids, max(1, (longest + 7) // 8))
        if keys is None:
            return None
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
        slot is empty (the id is not in the truth)."""
        found = self.table[slot].astype(np.int64) - 1
        if (found < 0).any():
            return None
        same = self.lengths[found] == lengths
        for j, column in enumerate(self.words):
            same &= column[found] == words[:, j]
        found[~same] = -1
        return found


def _home(table: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    bits = len(table).bit_length() - 1
    return (hashes >> np.uint64(64 - bits)).astype(np.int64)


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
