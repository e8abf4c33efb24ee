"""The hidden truth (``truth.csv``), typed, checked, and split into public and private rows.

Columns travel as arrow and numpy (see ``runner.arrow``): no pandas on the scoring path.
Truth columns of probability predictions must be binary (0/1, true/false); the positive
class is 1. A problem here is the maintainer's (``DataError``/``ConfigError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from runner.arrow import as_numpy, from_numpy, label_values, text_array, text_scalar
from runner.errors import ConfigError, DataError
from runner.models import Challenge
from runner.predictions import NUMBER, IdIndex

if TYPE_CHECKING:
    import pandas as pd

    from runner.models import PredictionColumn

TRUE_TEXT = {"1": 1, "1.0": 1, "true": 1, "0": 0, "0.0": 0, "false": 0}


@dataclass(frozen=True)
class Truth:
    """truth.csv, typed once by ``read_truth``.

    ``table`` holds every column: ids and the split column as text, probability targets as
    0/1 int8, number targets as float64, labels as text, any other column as read. ``ids`` is
    the id column in one chunk; ``targets`` maps each prediction column to its values as numpy
    (labels as Python ``str`` objects). A prepared truth (``runner.truthcache``) also carries
    its split ``masks`` and the ids' hash ``index``.
    """

    table: pa.Table
    ids: pa.Array
    targets: Mapping[str, np.ndarray]
    masks: Mapping[str, np.ndarray] | None = None
    index: IdIndex | None = None

    def __len__(self) -> int:
        return self.table.num_rows

    def to_pandas(self) -> pd.DataFrame:
        """The frame a challenge's ``scoring.py`` receives (imports pandas)."""
        return self.table.to_pandas()


def read_truth(path: Path, challenge: Challenge) -> Truth:
    """truth.csv as typed columns: ids as text, 0/1 ints for probability targets, floats for
    number targets, text for labels; the split column and any other columns as read."""
    spec = challenge.predictions
    text_columns = [spec.id_column, *(c.name for c in spec.columns)]
    if challenge.split.column:
        text_columns.append(challenge.split.column)
    table = _read_truth_table(Path(path), text_columns)
    missing = [name for name in text_columns if name not in table.column_names]
    if missing:
        raise DataError(
            f"truth.csv lacks column(s) {', '.join(map(repr, missing))}", path=str(path)
        )
    if table.num_rows == 0:
        raise DataError("truth.csv has no rows", path=str(path))
    ids = table.column(spec.id_column).combine_chunks()
    _check_truth_ids(ids, path)
    targets = {}
    for column in spec.columns:
        typed = _truth_column(table.column(column.name).combine_chunks(), column, path)
        index = table.column_names.index(column.name)
        table = table.set_column(index, column.name, typed)
        targets[column.name] = label_values(typed) if column.kind == "label" else as_numpy(typed)
    return Truth(table, ids, targets)


def _read_truth_table(path: Path, text_columns: list[str]) -> pa.Table:
    types = {name: pa.string() for name in text_columns}
    try:
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    except (OSError, pa.ArrowInvalid) as err:
        raise DataError(f"truth.csv cannot be read: {err}", path=str(path)) from err


def _check_truth_ids(ids: pa.Array, path: Path) -> None:
    codes = as_numpy(pc.dictionary_encode(ids).indices)
    # Codes number the distinct ids in order of first appearance, so a row repeats an earlier
    # id exactly when its code is not above every code before it.
    seen = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]]))
    repeated = np.flatnonzero(codes <= seen)
    if len(repeated):
        shown = list(dict.fromkeys(ids.take(from_numpy(repeated)).to_pylist()))[:3]
        raise DataError(
            f"truth.csv repeats {len(repeated)} id(s), e.g. {', '.join(map(repr, shown))}",
            path=str(path),
        )


def _truth_column(values: pa.Array, column: PredictionColumn, path: Path) -> pa.Array:
    where = f"truth.csv column {column.name!r}"
    if column.kind == "number":
        numbers = _numbers(pc.utf8_trim_whitespace(values))
        bad = np.flatnonzero(~np.isfinite(numbers))
        if len(bad):
            raise DataError(
                f"{where} has non-numeric values on line(s) {_lines(bad)}", path=str(path)
            )
        return from_numpy(numbers)
    if column.kind in ("probability", "score"):  # both are scored against binary labels
        text = pc.utf8_lower(pc.utf8_trim_whitespace(values))
        found = as_numpy(pc.index_in(text, value_set=text_array(TRUE_TEXT)), fill=-1)
        bad = np.flatnonzero(found < 0)
        if len(bad):
            raise DataError(
                f"{where} must hold binary labels 0/1 for a probability column; line(s) "
                f"{_lines(bad)} do not",
                path=str(path),
            )
        return from_numpy(np.array(list(TRUE_TEXT.values()), dtype=np.int8)[found])
    bad = np.flatnonzero(as_numpy(pc.equal(values, text_scalar(""))) | as_numpy(pc.is_null(values)))
    if column.classes:
        outside = pc.invert(pc.is_in(values, value_set=text_array(column.classes)))
        bad = np.union1d(bad, np.flatnonzero(as_numpy(outside)))
    if len(bad):
        raise DataError(
            f"{where} has labels outside the declared classes on line(s) {_lines(bad)}",
            path=str(path),
        )
    return values


def _numbers(text: pa.Array) -> np.ndarray:
    """Text cells as float64; NaN where a cell is not a number (reported by the caller)."""
    try:
        return as_numpy(pc.cast(text, pa.float64()), fill=np.nan)
    except pa.ArrowInvalid:  # some cell is not a number: parse only those that look like one
        looks = pc.match_substring_regex(text, NUMBER.pattern, ignore_case=True)
        return as_numpy(
            pc.cast(pc.if_else(looks, text, text_scalar("nan")), pa.float64()), fill=np.nan
        )


def _lines(rows: np.ndarray) -> str:
    return ", ".join(str(i + 2) for i in rows[:5]) + (" ..." if len(rows) > 5 else "")


def _mask(values: pa.Array, name: str) -> np.ndarray:
    return as_numpy(pc.equal(values, text_scalar(name)))


def split_masks(truth: Truth, challenge: Challenge) -> dict[str, np.ndarray]:
    """Boolean row masks of the public and private splits (empty splits are left out)."""
    if truth.masks is not None:
        return dict(truth.masks)  # prepared for this challenge's split rule
    split = challenge.split
    if split.column:
        if split.column not in truth.table.column_names:
            raise DataError(f"truth.csv lacks the split column {split.column!r}")
        values = truth.table.column(split.column).combine_chunks()
        masks = {name: _mask(values, name) for name in ("public", "private")}
        if not (masks["public"] | masks["private"]).all():  # tolerate case and spaces
            values = pc.utf8_lower(pc.utf8_trim_whitespace(values))
            masks = {name: _mask(values, name) for name in ("public", "private")}
        bad = np.flatnonzero(~(masks["public"] | masks["private"]))
        if len(bad):
            raise DataError(
                f"truth.csv column {split.column!r} must say 'public' or 'private'; line(s) "
                f"{_lines(bad)} do not"
            )
    elif split.public_fraction is not None:
        # A seeded permutation of truth rows: stable while truth.csv (pinned by sha256) is.
        order = np.random.default_rng(split.seed).permutation(len(truth))
        public = np.zeros(len(truth), dtype=bool)
        public[order[: round(split.public_fraction * len(truth))]] = True
        masks = {"public": public, "private": ~public}
    else:
        raise ConfigError("split needs a column or a public_fraction", path=challenge.id)
    return {name: mask for name, mask in masks.items() if mask.any()}
