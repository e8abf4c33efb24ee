"""Score a predictions file against the hidden truth: the ``score`` step of the pipeline.

``score_predictions`` reads and validates the predictions (``runner.predictions``; a
``PredictionsError`` means status ``invalid``), aligns them to the truth by id, and computes
every metric of the challenge on the public and private splits with confidence intervals
(``runner.confidence``). Anything that is the platform's fault — the challenge's
``scoring.py`` raising or returning NaN, a metric undefined on the truth — raises
``ScoringError`` (status ``error``, which never counts against limits).

How a predictions column feeds a registry metric whose ``kind`` differs:

* probability column, label metric (accuracy, f1, ...): the predicted label is 1 when
  p >= 0.5, else 0; the truth is the 0/1 column.
* label column, probability metric (roc_auc, log_loss, ...): the score is 1.0 where the label
  is "1", else 0.0 (hard predictions); the truth labels must be "0"/"1".
* probability column, number metric (rmse, mae, ...): the probabilities and 0/1 truth as
  numbers.
* ``column: null`` with several probability columns (``roc_auc_ovr``, multi-class
  ``log_loss`` or ``brier``): y_pred has one column per class in the declared order, and the
  truth's same-named columns are one-hot; the class is the column holding the 1.

Truth columns of probability predictions must be binary (0/1, true/false), and the positive
class is 1. Custom metrics (``runner.customscore``) get confidence intervals from
``CUSTOM_BUCKETS`` disjoint random buckets of rows (``score()`` called once per bucket, so
about one extra full call in total; batch means with a Student t quantile); if ``score()``
fails on a bucket the interval is left empty while the value stands.

The truth and predictions travel as arrow and numpy columns (``Truth``, ``Predictions``):
importing pandas would cost a quarter second of every evaluation's start-up, so it is loaded
only to hand a challenge's own ``score()`` the DataFrames its contract promises (arrow and
numpy cross through ``runner.arrow``, because pyarrow's converters would import pandas too).
The truth is read and split by ``runner.truth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from runner import confidence
from runner.errors import RunnerError
from runner.metrics import Metric, get_metric
from runner.models import Challenge, LadderStats, MetricSpec, Score
from runner.predictions import Predictions, read_predictions
from runner.truth import Truth, read_truth, split_masks

__all__ = [
    "PLATFORM_FAULT",
    "ScoreOutcome",
    "ScoringError",
    "Truth",
    "interval_method",
    "metric_display",
    "metric_inputs",
    "read_truth",
    "score_predictions",
    "split_masks",
]

if TYPE_CHECKING:
    pass

PLATFORM_FAULT = (
    "the challenge's scorer failed; this is the platform's fault and does not count against "
    "your limits"
)


class ScoringError(RunnerError):
    """The platform failed to score (status ``error``); ``detail`` is for maintainers."""

    def __init__(self, detail: str, message: str = PLATFORM_FAULT):
        super().__init__(message, detail=detail)


@dataclass(frozen=True)
class ScoreOutcome:
    scores: dict[str, dict[str, Score]]  # split -> metric name -> Score
    ladder: LadderStats | None = None


def metric_display(challenge: Challenge, spec: MetricSpec) -> tuple[bool, int]:
    """``(higher_is_better, display decimals)``: kept for callers; ``MetricSpec`` resolves
    both once (read ``spec.higher_is_better`` and ``spec.precision``)."""
    return spec.higher_is_better, spec.precision


# --- scoring ---------------------------------------------------------------------------------


def score_predictions(
    challenge: Challenge, truth: Truth, predictions_path: Path, *, seed: int = 0
) -> ScoreOutcome:
    """Validate the predictions and compute every metric on each split, with intervals.

    Raises ``PredictionsError`` (participant's fault: status ``invalid``) or ``ScoringError``
    (platform's fault: status ``error``).
    """
    spec = challenge.predictions
    predictions = read_predictions(predictions_path, spec, truth.index or truth.ids)
    masks = split_masks(truth, challenge)
    from runner.customscore import custom_scores

    custom = custom_scores(challenge, truth, predictions, masks, seed)
    scores: dict[str, dict[str, Score]] = {split: {} for split in masks}
    for metric_spec in challenge.metrics:
        if metric_spec.custom:
            for split in masks:
                scores[split][metric_spec.name] = custom[split][metric_spec.name]
            continue
        metric = get_metric(metric_spec.name)
        y_true, y_pred = metric_inputs(challenge, metric_spec, truth, predictions)
        for split, mask in masks.items():
            rows = _rows(mask)
            if not metric_spec.interval:
                scores[split][metric.name] = _value_only(metric, y_true[rows], y_pred[rows], split)
                continue
            scores[split][metric.name] = _score(
                challenge, metric, y_true[rows], y_pred[rows], split, seed
            )
    return ScoreOutcome(scores, _ladder(challenge, truth, predictions, masks.get("public")))


def _rows(mask: np.ndarray) -> slice | np.ndarray:
    return slice(None) if mask.all() else mask


def metric_inputs(
    challenge: Challenge, spec: MetricSpec, truth: Truth, predictions: Predictions
) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` arrays for a registry metric, in truth order (see module doc)."""
    metric = get_metric(spec.name)
    columns = challenge.predictions.columns
    if spec.column is None and len(columns) > 1:
        if any(c.kind != "probability" for c in columns) or metric.kind != "probability":
            raise ScoringError(
                f"metric {spec.name!r} needs `column:`: the predictions have several columns"
            )
        y_true = np.argmax(np.column_stack([truth.targets[c.name] for c in columns]), axis=1)
        return y_true, np.column_stack([predictions.columns[c.name] for c in columns])
    column = challenge.predictions.column(spec.column or columns[0].name)
    return _convert(
        metric, column.kind, truth.targets[column.name], predictions.columns[column.name]
    )


def _convert(
    metric: Metric, kind: str, truth: np.ndarray, pred: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if kind == "label":
        y_true, y_pred = np.asarray(truth, dtype=str), np.asarray(pred, dtype=str)
        if metric.kind == "probability":
            y_pred = (y_pred == "1").astype(np.float64)  # hard scores: 1.0 for the label "1"
        elif metric.kind == "number":
            raise ScoringError(f"metric {metric.name!r} needs numbers, but the column holds labels")
        return y_true, y_pred
    y_true, y_pred = np.asarray(truth), np.asarray(pred, dtype=np.float64)
    if metric.kind == "label":
        if kind != "probability":
            raise ScoringError(f"metric {metric.name!r} needs labels, but the column holds numbers")
        y_pred = (y_pred >= 0.5).astype(np.int8)
    elif metric.kind == "probability" and kind == "number":
        raise ScoringError(
            f"metric {metric.name!r} needs probabilities, but the column holds numbers"
        )
    return y_true, y_pred


def interval_method(spec: MetricSpec) -> str | None:
    """How the intervals of a challenge's metric are made, in words (None: no interval)."""
    if not spec.interval:
        return None
    if spec.custom:
        from runner.customscore import CUSTOM_BUCKETS

        return f"batch means over {CUSTOM_BUCKETS} random buckets of rows"
    if spec.name == "roc_auc":
        return "DeLong's variance"
    if get_metric(spec.name).per_row_loss is not None:
        return "percentile bootstrap over rows (normal interval of the mean loss on large sets)"
    return (
        "percentile bootstrap over rows "
        f"(batch means over {confidence.BUCKETS} buckets on large sets)"
    )


def _value_only(metric: Metric, y_true: np.ndarray, y_pred: np.ndarray, split: str) -> Score:
    try:
        return _plain_score(metric(y_true, y_pred))
    except ValueError as err:
        raise ScoringError(f"metric {metric.name!r} on the {split} split: {err}") from err


def _score(
    challenge: Challenge,
    metric: Metric,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    split: str,
    seed: int,
) -> Score:
    board = challenge.leaderboard
    try:
        value, low, high = confidence.estimate(
            metric, y_true, y_pred, level=board.ci, n_boot=board.bootstrap, seed=seed
        )
    except ValueError:
        # The interval may be undefined where the value is not (e.g. one positive row).
        try:
            return _plain_score(metric(y_true, y_pred))
        except ValueError as err:
            raise ScoringError(f"metric {metric.name!r} on the {split} split: {err}") from err
    return _plain_score(value, low, high)


def _plain_score(value: float, low: float | None = None, high: float | None = None) -> Score:
    """A Score of built-in floats: numpy scalars are not JSON numbers for the record."""
    return Score(float(value), *(None if v is None else float(v) for v in (low, high)))


def _ladder(
    challenge: Challenge, truth: Any, predictions: Any, public: np.ndarray | None
) -> LadderStats | None:
    spec = challenge.primary
    if public is None or spec.custom or get_metric(spec.name).per_row_loss is None:
        return None
    metric = get_metric(spec.name)
    y_true, y_pred = metric_inputs(challenge, spec, truth, predictions)
    rows = _rows(public)
    assert metric.per_row_loss is not None  # checked above
    loss = metric.per_row_loss(y_true[rows], y_pred[rows])
    sd = float(np.std(loss, ddof=1)) if len(loss) > 1 else 0.0
    return LadderStats(loss_mean=float(np.mean(loss)), loss_sd=sd, n=len(loss))
