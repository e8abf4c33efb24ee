"""Metrics on predicted labels: accuracy and the confusion-matrix family.

Binary metrics (``f1``, ``precision``, ``recall``) take the positive class to be 1 (or "1",
True). Averaged variants use the union of labels in truth and predictions, like scikit-learn,
and a ratio with a zero denominator counts as 0 (scikit-learn's ``zero_division`` default).
A truth with a single class makes the F-family, ``mcc`` and ``cohen_kappa`` undefined: they
raise ``ValueError`` instead of returning a conventional 0 or NaN.
"""

from __future__ import annotations

import numpy as np

from runner.metrics.base import (
    Metric,
    ScoreFn,
    confusion,
    encode_labels,
    mean_loss_metric,
    positive_mask,
    require_both_classes,
    safe_divide,
)


def _zero_one_loss(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return (y_true != y_pred).astype(np.float64)


def _coded(y_true: np.ndarray, y_pred: np.ndarray, metric: str) -> tuple[np.ndarray, int]:
    """Confusion matrix of the labels; raises if the truth has a single class."""
    t, p, k = encode_labels(y_true, y_pred)
    matrix = confusion(t, p, k)
    if np.count_nonzero(matrix.sum(axis=1)) < 2:
        raise ValueError(f"{metric} is undefined when the truth has only one class")
    return matrix, k


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p, k = encode_labels(y_true, y_pred)
    matrix = confusion(t, p, k)
    support = matrix.sum(axis=1)
    present = support > 0  # classes only predicted have no recall: scikit-learn drops them
    return float(np.mean(np.diag(matrix)[present] / support[present]))


def _binary_counts(y_true: np.ndarray, y_pred: np.ndarray, metric: str) -> tuple[int, int, int]:
    truth = positive_mask(y_true)
    require_both_classes(truth, metric)
    pred = positive_mask(y_pred, "y_pred")
    tp = int(np.count_nonzero(truth & pred))
    return tp, int(np.count_nonzero(pred)) - tp, int(np.count_nonzero(truth)) - tp


def f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    tp, fp, fn = _binary_counts(y_true, y_pred, "f1")
    return float(safe_divide(np.asarray(2 * tp), np.asarray(2 * tp + fp + fn)))


def precision(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    tp, fp, _ = _binary_counts(y_true, y_pred, "precision")
    return float(safe_divide(np.asarray(tp), np.asarray(tp + fp)))


def recall(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    tp, _, fn = _binary_counts(y_true, y_pred, "recall")
    return float(tp / (tp + fn))


def _per_class_f1(matrix: np.ndarray) -> np.ndarray:
    tp = np.diag(matrix)
    return safe_divide(2 * tp, matrix.sum(axis=0) + matrix.sum(axis=1))


def f1_macro(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    matrix, _ = _coded(y_true, y_pred, "f1_macro")
    return float(np.mean(_per_class_f1(matrix)))


def f1_weighted(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    matrix, _ = _coded(y_true, y_pred, "f1_weighted")
    support = matrix.sum(axis=1)
    return float(np.sum(_per_class_f1(matrix) * support) / support.sum())


def f1_micro(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    # With one label per row, micro-averaged tp/fp/fn make F1 equal to accuracy.
    matrix, _ = _coded(y_true, y_pred, "f1_micro")
    return float(np.trace(matrix) / matrix.sum())


def mcc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Matthews correlation (multi-class R_K); 0 when predictions are constant."""
    matrix, _ = _coded(y_true, y_pred, "mcc")
    t_sum, p_sum = matrix.sum(axis=1), matrix.sum(axis=0)
    n, correct = matrix.sum(), np.trace(matrix)
    cov_tp = correct * n - t_sum @ p_sum
    cov_pp = n * n - p_sum @ p_sum
    cov_tt = n * n - t_sum @ t_sum
    if cov_pp * cov_tt == 0:
        return 0.0
    return float(cov_tp / np.sqrt(cov_tt * cov_pp))


def cohen_kappa(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    matrix, _ = _coded(y_true, y_pred, "cohen_kappa")
    expected = np.outer(matrix.sum(axis=1), matrix.sum(axis=0)) / matrix.sum()
    observed_agree, expected_agree = np.trace(matrix), np.trace(expected)
    n = matrix.sum()
    return float(1 - (n - observed_agree) / (n - expected_agree))


def _label_metric(name: str, fn: ScoreFn, low: float = 0.0, description: str = "") -> Metric:
    return Metric(name, fn, True, (low, 1.0), "label", 4, description=description)


METRICS: tuple[Metric, ...] = (
    mean_loss_metric(
        "accuracy",
        _zero_one_loss,
        from_mean_loss=lambda loss: 1.0 - loss,
        higher_is_better=True,
        range=(0.0, 1.0),
        kind="label",
        description="share of rows whose label is right",
    ),
    _label_metric("balanced_accuracy", balanced_accuracy, description="mean recall per class"),
    _label_metric("f1", f1, description="F1 of the positive class 1"),
    _label_metric("f1_macro", f1_macro, description="unweighted mean of per-class F1"),
    _label_metric("f1_micro", f1_micro, description="F1 of pooled counts"),
    _label_metric("f1_weighted", f1_weighted, description="per-class F1 weighted by support"),
    _label_metric("precision", precision, description="precision of the positive class 1"),
    _label_metric("recall", recall, description="recall of the positive class 1"),
    _label_metric("mcc", mcc, -1.0, "Matthews correlation coefficient"),
    _label_metric("cohen_kappa", cohen_kappa, -1.0, "Cohen's kappa (unweighted)"),
)
