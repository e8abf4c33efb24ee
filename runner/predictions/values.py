"""The declared columns' values: finite numbers, probabilities in [0, 1], known labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from runner.arrow import as_numpy, text_array, text_scalar
from runner.models import PredictionColumn
from runner.predictions.text import SHOWN, fail, more, names, rows


def check_values(
    path: Path, column: PredictionColumn, values: pa.ChunkedArray, ids: pa.Array
) -> pa.Array:
    """The column's values once checked: a text array for labels, else float64 numbers."""
    if column.kind == "label":
        return _labels(path, column, values.combine_chunks(), ids)
    name = column.name
    numbers = as_numpy(values, fill=np.nan)  # an empty cell is a null: NaN, reported here
    bad = np.flatnonzero(~np.isfinite(numbers))
    if len(bad):
        fail(
            path,
            f"column {name!r} has empty, NaN or infinite values at {rows(bad, ids)}"
            f"{more(len(bad))}; every row needs a finite number",
        )
    if column.kind == "probability":
        bad = np.flatnonzero((numbers < 0) | (numbers > 1))
        if len(bad):
            listed = ", ".join(
                f"{rows(bad[i : i + 1], ids)} has {numbers[bad[i]]:g}"
                for i in range(min(SHOWN, len(bad)))
            )
            fail(
                path,
                f"column {name!r} must hold probabilities between 0 and 1: {listed}"
                f"{more(len(bad))}",
            )
    return numbers


def _labels(path: Path, column: PredictionColumn, labels: pa.Array, ids: pa.Array) -> pa.Array:
    bad = pc.equal(labels, text_scalar(""))
    if column.classes:
        bad = pc.or_(bad, pc.invert(pc.is_in(labels, value_set=text_array(column.classes))))
    found = np.flatnonzero(as_numpy(bad))
    if len(found):
        allowed = names(list(column.classes)) if column.classes else "non-empty labels"
        fail(
            path,
            f"column {column.name!r} has labels outside {allowed}: {rows(found, ids)}"
            f"{more(len(found))}; use only those labels",
        )
    return labels
