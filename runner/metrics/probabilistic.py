"""Proper scoring rules on predicted probabilities: log loss and the Brier score.

1-D ``y_pred`` is the probability of the positive class 1 and ``y_true`` holds binary labels
(the truth may have a single class: both losses stay defined). 2-D ``y_pred`` has one column per
class and ``y_true`` holds column indices 0..k-1. Probabilities are clipped to
``[eps, 1 - eps]`` (float64 machine epsilon) before the logarithm, as scikit-learn does, so a
confident wrong answer costs about 36 nats rather than infinity.
"""

from __future__ import annotations

import numpy as np

from runner.metrics.base import finite_numbers, mean_loss_metric, positive_mask

EPS = float(np.finfo(np.float64).eps)


def _probabilities(y_pred: np.ndarray) -> np.ndarray:
    proba = finite_numbers(y_pred, "y_pred")
    if proba.min() < 0 or proba.max() > 1:
        raise ValueError("y_pred must hold probabilities in [0, 1]")
    return proba


def _class_codes(y_true: np.ndarray, k: int) -> np.ndarray:
    codes = np.asarray(y_true)
    if codes.dtype.kind not in "iu" or codes.min() < 0 or codes.max() >= k:
        raise ValueError(f"with 2-D y_pred, y_true must hold column indices 0..{k - 1}")
    return codes


def _prob_of_truth(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The probability given to what happened, per row."""
    proba = _probabilities(y_pred)
    if proba.ndim == 2:
        codes = _class_codes(y_true, proba.shape[1])
        return np.take_along_axis(proba, codes[:, None], axis=1)[:, 0]
    return np.where(positive_mask(y_true), proba, 1.0 - proba)


def log_loss_rows(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    proba = _probabilities(y_pred)
    if proba.ndim == 2:
        given = np.clip(_prob_of_truth(y_true, proba), EPS, 1 - EPS)
    else:
        # Clip p before taking 1 - p: the same rounding as scikit-learn's two columns.
        clipped = np.clip(proba, EPS, 1 - EPS)
        given = np.where(positive_mask(y_true), clipped, np.clip(1.0 - proba, EPS, 1 - EPS))
    return -np.log(given)


def brier_rows(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    proba = _probabilities(y_pred)
    if proba.ndim == 2:
        onehot = np.zeros_like(proba)
        onehot[np.arange(len(proba)), _class_codes(y_true, proba.shape[1])] = 1.0
        return np.sum((proba - onehot) ** 2, axis=1)
    return (proba - positive_mask(y_true)) ** 2


METRICS = (
    mean_loss_metric(
        "log_loss",
        log_loss_rows,
        higher_is_better=False,
        multiclass=True,
        range=(0.0, float("inf")),
        kind="probability",
        description="mean negative log-likelihood (natural log)",
    ),
    mean_loss_metric(
        "brier",
        brier_rows,
        higher_is_better=False,
        multiclass=True,
        range=(0.0, 2.0),
        kind="probability",
        description="mean squared error of the probabilities",
    ),
)
