"""Matching prediction ids to the truth ids, exactly, with a message for every mismatch.

Ids are compared as exact text: ``1.0``, `` 1`` and ``01`` are not the id ``1``. The common
cases are fast: rows already in truth order (one comparison), or a shuffled permutation found
through the truth's ``IdIndex`` (a hash join). Anything else takes ``pyarrow``'s ``index_in``,
which also finds the unknown, repeated and missing ids the message names.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from runner.arrow import as_numpy, from_numpy, text_scalar
from runner.predictions.index import IdIndex
from runner.predictions.text import SHOWN, cut, fail, more, names, rows

FLOAT_ID = re.compile(r"(-?\d+)\.0*")


def match_ids(path: Path, ids: pa.Array, truth: pa.Array | IdIndex | None) -> np.ndarray | None:
    """Check the ids; the file row of each truth id, or None when no reordering is needed."""
    if truth is None:
        codes = as_numpy(pc.dictionary_encode(ids).indices)
        counts = np.bincount(codes)
        _check_duplicates(path, ids, np.flatnonzero(counts[codes] > 1), int(np.sum(counts > 1)))
        return None
    index = truth if isinstance(truth, IdIndex) else None
    truth_ids: pa.Array = truth.ids if isinstance(truth, IdIndex) else truth
    if _in_order(ids, truth_ids):
        return None  # the usual case: rows in the order of the test inputs
    if index is not None:
        located = index.locate(ids)
        if located is not None:
            order = np.empty(len(truth_ids), dtype=np.int64)
            order[located] = np.arange(len(ids))
            return order
    return _exact(path, ids, truth_ids)


def _in_order(ids: pa.Array, truth: pa.Array) -> bool:
    if len(ids) != len(truth):
        return False
    head = min(len(ids), 64)  # a shuffled file fails here without a full comparison
    if not pc.all(pc.equal(ids.slice(0, head), truth.slice(0, head))).as_py():
        return False
    return bool(pc.all(pc.equal(ids, truth)).as_py())


def _exact(path: Path, ids: pa.Array, truth: pa.Array) -> np.ndarray:
    positions = as_numpy(pc.index_in(ids, value_set=truth), fill=-1)
    found = positions >= 0
    counts = np.bincount(positions[found], minlength=len(truth))
    repeated = np.flatnonzero(found & (counts[np.maximum(positions, 0)] > 1))
    _check_duplicates(path, ids, repeated, int(np.sum(counts > 1)))
    _check_unknown(path, ids, np.flatnonzero(~found), truth)
    _check_missing(path, np.flatnonzero(counts == 0), truth)
    order = np.empty(len(truth), dtype=np.int64)
    order[positions] = np.arange(len(ids))
    return order


def _check_duplicates(path: Path, ids: pa.Array, found: np.ndarray, n_ids: int) -> None:
    if not len(found):
        return
    listed = []
    for value in dict.fromkeys(ids.take(from_numpy(found[: SHOWN * SHOWN])).to_pylist()):
        lines = np.flatnonzero(as_numpy(pc.equal(ids, text_scalar(value)))) + 2
        where = " and ".join(map(str, lines[:SHOWN])) + (" ..." if len(lines) > SHOWN else "")
        listed.append(f"{cut(value, 40)!r} on lines {where}")
        if len(listed) == SHOWN:
            break
    fail(
        path,
        f"{n_ids} id(s) appear more than once: {', '.join(listed)}{more(n_ids)}; "
        "write each id exactly once",
    )


def _check_unknown(path: Path, ids: pa.Array, found: np.ndarray, truth: pa.Array) -> None:
    if not len(found):
        return
    fix = "predict exactly the ids of the test inputs"
    for value in ids.take(from_numpy(found[:SHOWN])).to_pylist():
        guess = FLOAT_ID.fullmatch(value)
        if guess and _in(truth, guess.group(1)):
            fix = (
                f"id {cut(value, 40)!r} looks like the id {guess.group(1)!r} written as a "
                "decimal number; write ids exactly as in the test inputs (read them as text, "
                "not as floats)"
            )
            break
        if value.strip() != value and _in(truth, value.strip()):
            fix = (
                f"id {cut(value, 40)!r} has surrounding spaces; "
                "write ids exactly as in the test inputs"
            )
            break
    fail(
        path,
        f"{len(found)} id(s) are not in the test set: {rows(found, ids)}{more(len(found))}; {fix}",
    )


def _in(truth: pa.Array, value: str) -> bool:
    return bool(pc.any(pc.equal(truth, text_scalar(value))).as_py())


def _check_missing(path: Path, found: np.ndarray, truth: pa.Array) -> None:
    if len(found):
        listed = names(truth.take(from_numpy(found[:SHOWN])).to_pylist())
        fail(
            path,
            f"{len(found)} test id(s) have no prediction, e.g. {listed}; "
            "write one row for every test id",
        )
