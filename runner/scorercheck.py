"""Try a challenge's ``scoring.py`` before any participant depends on it.

``validate --run-scorers`` calls the challenge's ``score(truth, predictions)`` exactly as an
evaluation would (``runner.scoring``: id-aligned DataFrames with the split column, once per
split and once per interval bucket) on made-up rows shaped by challenge.yaml, never on the
hidden data, and reports what would make every evaluation an ``error``: an import failure,
a raise, a missing or extra key, a value that is not a finite number.

It runs maintainer code, so it is opt-in: never run it on a pull request that changes a
challenge (validate.yml does not pass the flag).
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from runner.models import Challenge, PredictionColumn

ROWS = 64  # enough for every split and for the interval buckets (2 x 16 rows per split)


def check_scorer(challenge: Challenge) -> list[str]:
    """Problems of the challenge's scoring.py on made-up rows; [] when it works."""
    from runner.errors import PredictionsError
    from runner.scoring import ScoringError, read_truth, score_predictions

    if challenge.scoring is None:
        return []
    with tempfile.TemporaryDirectory(prefix="challenge-runner-scorer-") as tmp:
        truth_path, predictions_path = _made_up_files(challenge, Path(tmp))
        try:
            # Scoring itself refuses a missing key or a non-finite value (ScoringError).
            score_predictions(challenge, read_truth(truth_path, challenge), predictions_path)
        except ScoringError as err:
            return [f"score() fails on made-up rows: {err.detail or err.message}"]
        except PredictionsError as err:  # our own made-up file: a bug, say it plainly
            return [f"could not make sample rows for this challenge: {err.message}"]
    return []


def _made_up_files(challenge: Challenge, folder: Path) -> tuple[Path, Path]:
    spec = challenge.predictions
    rng = np.random.default_rng(0)
    ids = [f"row{i:03d}" for i in range(ROWS)]
    split = challenge.split.column
    truth_header = [spec.id_column, *(c.name for c in spec.columns)] + ([split] if split else [])
    truth_rows, pred_rows = [], []
    for i, row_id in enumerate(ids):
        truth = [_truth_value(c, i) for c in spec.columns]
        pred = [_prediction_value(c, i, rng) for c in spec.columns]
        truth_rows.append(
            [row_id, *truth] + (["public" if i % 4 < 2 else "private"] if split else [])
        )
        pred_rows.append([row_id, *pred])
    truth_path, predictions_path = folder / "truth.csv", folder / "predictions.csv"
    _write(truth_path, truth_header, truth_rows)
    _write(predictions_path, [spec.id_column, *(c.name for c in spec.columns)], pred_rows)
    return truth_path, predictions_path


def _truth_value(column: PredictionColumn, i: int) -> str:
    if column.kind in ("probability", "score"):
        return str(i % 2)
    if column.kind == "label":
        classes = column.classes or ("a", "b")
        return classes[i % len(classes)]
    return f"{i / 7:.3f}"


def _prediction_value(column: PredictionColumn, i: int, rng: Any) -> str:
    if column.kind == "probability":
        return f"{rng.random():.4f}"
    if column.kind == "label":
        classes = column.classes or ("a", "b")
        return classes[(i * 3 + 1) % len(classes)]
    return f"{rng.normal():.4f}"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
