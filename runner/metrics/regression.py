"""Regression metrics on numbers.

``r2`` is undefined for a constant truth (raises rather than scikit-learn's conventional 0 or
1). ``mape`` divides by ``max(|y_true|, eps)`` like scikit-learn, so a zero truth gives a huge
but finite percentage; it is a fraction, not multiplied by 100.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from runner.metrics.base import ArrayFn, Metric, finite_numbers, mean_loss_metric

EPS = float(np.finfo(np.float64).eps)


def _errors(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return finite_numbers(y_pred, "y_pred") - finite_numbers(y_true, "y_true")


def squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return _errors(y_true, y_pred) ** 2


def absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return np.abs(_errors(y_true, y_pred))


def relative_error(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.abs(finite_numbers(y_true, "y_true")), EPS)
    return absolute_error(y_true, y_pred) / scale


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    truth = finite_numbers(y_true, "y_true")
    total = np.sum((truth - truth.mean()) ** 2)
    if total == 0:
        raise ValueError("r2 is undefined when the truth is constant")
    return float(1.0 - np.sum(squared_error(truth, y_pred)) / total)


def median_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.median(absolute_error(y_true, y_pred)))


def _lower(name: str, loss: ArrayFn, description: str, **extra: Any) -> Metric:
    return mean_loss_metric(
        name,
        loss,
        higher_is_better=False,
        range=(0.0, float("inf")),
        kind="number",
        description=description,
        **extra,
    )


METRICS: tuple[Metric, ...] = (
    _lower("rmse", squared_error, "root mean squared error", from_mean_loss=np.sqrt),
    _lower("mae", absolute_error, "mean absolute error"),
    _lower("mape", relative_error, "mean absolute percentage error (as a fraction)"),
    Metric(
        "r2",
        r2,
        True,
        (float("-inf"), 1.0),
        "number",
        4,
        description="coefficient of determination",
    ),
    Metric(
        "median_absolute_error",
        median_absolute_error,
        False,
        (0.0, float("inf")),
        "number",
        4,
        description="median of absolute errors",
    ),
)
