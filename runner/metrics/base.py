"""The ``Metric`` record and the input checks every metric shares.

A metric is a plain function ``(y_true, y_pred) -> float`` over numpy arrays wrapped with the
metadata that drives validation, ranking and display. Errors are ``ValueError`` with a sentence
that says what is wrong with the *inputs*; ``runner.scoring`` turns them into platform errors,
because participant predictions are validated before any metric sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

Kind = Literal["label", "probability", "number"]
ArrayFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
ScoreFn = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Metric:
    """A scoring function with its metadata.

    ``per_row_loss`` is set when the metric is ``from_mean_loss(mean(per_row_loss))`` with a
    monotone ``from_mean_loss`` (accuracy is ``1 - mean(0/1 error)``, rmse is ``sqrt(mean(sq
    error))``); the confidence intervals and the Ladder use it.
    """

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool
    range: tuple[float, float]
    kind: Kind
    precision: int = 4
    per_row_loss: ArrayFn | None = None
    from_mean_loss: Callable[[float], float] | None = None
    description: str = ""
    # Only the order of the predictions matters: any real scores will do (column kind score).
    rank: bool = False
    # Takes one probability column per class (challenge.yaml: column: null).
    multiclass: bool = False

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike) -> float:
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        check_lengths(y_true, y_pred)
        return float(self.fn(y_true, y_pred))


def mean_loss_metric(
    name: str,
    loss: ArrayFn,
    *,
    from_mean_loss: Callable[[float], float] = float,
    **meta: Any,
) -> Metric:
    """A metric that is a monotone function of the mean of per-row losses."""

    def fn(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return from_mean_loss(float(np.mean(loss(y_true, y_pred))))

    return Metric(name, fn, per_row_loss=loss, from_mean_loss=from_mean_loss, **meta)


def check_lengths(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if len(y_true) == 0:
        raise ValueError("no rows to score: the truth is empty")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} rows but y_pred has {len(y_pred)}")


def positive_mask(y: np.ndarray, what: str = "y_true") -> np.ndarray:
    """Binary labels as a boolean mask of the positive class (1, "1" or True).

    Anything but {0, 1}, {"0", "1"} or booleans raises: a binary metric must not guess which
    of two arbitrary labels is positive.
    """
    if y.dtype == bool:
        return y
    if y.dtype.kind in "iuf":
        positive = y == 1
        if not np.all(positive | (y == 0)):
            raise ValueError(f"{what} must hold binary labels 0/1 (positive class 1)")
        return positive
    y = y.astype(str)
    positive = y == "1"
    if not np.all(positive | (y == "0")):
        raise ValueError(f'{what} must hold binary labels "0"/"1" (positive class "1")')
    return positive


def require_both_classes(positive: np.ndarray, metric: str) -> None:
    n_pos = int(np.count_nonzero(positive))
    if n_pos == 0 or n_pos == len(positive):
        raise ValueError(f"{metric} is undefined when the truth has only one class")


def encode_labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes over the union of labels (sorted, as scikit-learn orders them)."""
    if y_true.dtype.kind != y_pred.dtype.kind and "U" in (y_true.dtype.kind, y_pred.dtype.kind):
        y_true, y_pred = y_true.astype(str), y_pred.astype(str)
    labels, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    n = len(y_true)
    return codes[:n], codes[n:], len(labels)


def confusion(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Confusion counts: rows are true classes, columns predicted classes."""
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.float64)


def finite_numbers(y: np.ndarray, what: str) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{what} must hold finite numbers (found NaN or infinity)")
    return y


def safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (scikit-learn's zero_division default)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out
