"""Confidence intervals: coverage by simulation, determinism, and every method's edges."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from runner import confidence
from runner.confidence import estimate, interval
from runner.metrics import REGISTRY, get_metric

REPLICATIONS = 200


def _binary(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities: p ~ U(0, 1), y ~ Bernoulli(p)."""
    proba = rng.random(n)
    return (rng.random(n) < proba).astype(int), proba


def _accuracy_case(rng, n):
    truth = rng.integers(0, 2, n)
    right = rng.random(n) < 0.8
    return truth, np.where(right, truth, 1 - truth), 0.8


def _roc_auc_case(rng, n):
    # Binormal scores with unit variances: AUC = Phi(d / sqrt(2)).
    truth = rng.integers(0, 2, n)
    return truth, rng.normal(size=n) + truth, NormalDist().cdf(1 / np.sqrt(2))


def _log_loss_case(rng, n):
    truth, proba = _binary(rng, n)
    return truth, proba, 0.5  # E[-p ln p - (1-p) ln(1-p)] over p ~ U(0, 1) is 1/2


def _rmse_case(rng, n):
    truth = rng.normal(size=n)
    return truth, truth + rng.normal(0, 2.0, n), 2.0


def _f1_case(rng, n):
    truth = rng.integers(0, 2, n)
    right = rng.random(n) < 0.8
    # Precision = recall = 0.8 in the population, so F1 = 0.8.
    return truth, np.where(right, truth, 1 - truth), 0.8


CASES = {
    "accuracy": _accuracy_case,
    "roc_auc": _roc_auc_case,
    "log_loss": _log_loss_case,
    "rmse": _rmse_case,
}


def _coverage(name: str, case, n: int, n_boot: int) -> float:
    rng = np.random.default_rng(2024)
    metric, hits = get_metric(name), 0
    for replication in range(REPLICATIONS):
        truth, pred, true_value = case(rng, n)
        low, high = interval(metric, truth, pred, n_boot=n_boot, seed=replication)
        hits += low <= true_value <= high
    return hits / REPLICATIONS


@pytest.mark.parametrize("name", sorted(CASES))
def test_95_percent_intervals_cover_the_true_value_on_small_data(name: str) -> None:
    # 400 rows x 500 resamples: the row bootstrap (DeLong for roc_auc).
    assert 0.90 <= _coverage(name, CASES[name], 400, 500) <= 0.99


@pytest.mark.parametrize("name", ["accuracy", "log_loss", "rmse"])
def test_normal_interval_of_the_mean_loss_covers_at_scale(name: str) -> None:
    # n * n_boot over the row budget: the linear normal interval is used.
    n = confidence.ROW_BOOTSTRAP_BUDGET // 1000 + 1
    assert 0.90 <= _coverage(name, CASES[name], n, 1000) <= 0.99


def test_random_bucket_interval_covers_at_scale() -> None:
    n = confidence.LOOP_BOOTSTRAP_BUDGET // 1000 + 1000
    assert 0.90 <= _coverage("f1", _f1_case, n, 1000) <= 0.99


def test_loop_bootstrap_covers_for_metrics_without_per_row_loss() -> None:
    assert 0.90 <= _coverage("f1", _f1_case, 300, 300) <= 0.99


def test_intervals_are_seeded_and_contain_the_value() -> None:
    truth, pred, _ = _log_loss_case(np.random.default_rng(1), 500)
    metric = get_metric("log_loss")
    first = estimate(metric, truth, pred, seed=5)
    assert first == estimate(metric, truth, pred, seed=5)
    assert first != estimate(metric, truth, pred, seed=6)
    value, low, high = first
    assert value == metric(truth, pred) and low < value < high


def test_wider_level_gives_a_wider_interval() -> None:
    truth, pred, _ = _roc_auc_case(np.random.default_rng(1), 500)
    narrow = interval(get_metric("roc_auc"), truth, pred, level=0.8)
    wide = interval(get_metric("roc_auc"), truth, pred, level=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_every_registry_metric_gets_an_interval_inside_its_range() -> None:
    rng = np.random.default_rng(9)
    truth = rng.integers(0, 3, 300)
    truth2 = truth % 2
    proba = np.clip(rng.random(300) * 0.5 + 0.5 * truth2, 0, 1)
    proba3 = rng.dirichlet(np.ones(3), 300)
    numbers = rng.normal(size=300) + 2
    inputs = {
        "label": (truth, np.where(rng.random(300) < 0.7, truth, 2 - truth)),
        "probability": (truth2, proba),
        "number": (numbers, numbers + rng.normal(size=300)),
    }
    binary = {"f1", "precision", "recall"}
    for name, metric in REGISTRY.items():
        truth_col, pred_col = inputs[metric.kind]
        if name in binary:
            truth_col, pred_col = truth2, (proba > 0.5).astype(int)
        if name == "roc_auc_ovr":
            truth_col, pred_col = truth, proba3
        value, low, high = estimate(metric, truth_col, pred_col, n_boot=200)
        assert metric.range[0] <= low <= value <= high <= metric.range[1], name


def test_delong_matches_the_textbook_variance_on_a_tiny_case() -> None:
    # Positives 0.9, 0.6; negatives 0.7, 0.1: V10 = (1, 0.5), V01 = (0.5, 0), AUC = 0.75.
    truth, scores = np.array([1, 1, 0, 0]), np.array([0.9, 0.6, 0.7, 0.1])
    value, low, high = estimate(get_metric("roc_auc"), truth, scores, level=0.9)
    se = np.sqrt(np.var([1, 0.5], ddof=1) / 2 + np.var([0.5, 0], ddof=1) / 2)
    z = NormalDist().inv_cdf(0.95)
    assert value == 0.75
    assert (low, high) == pytest.approx((0.75 - z * se, min(1.0, 0.75 + z * se)))


def test_undefined_intervals_raise_a_clear_value_error() -> None:
    with pytest.raises(ValueError) as caught:
        interval(get_metric("roc_auc"), np.array([1, 0, 0]), np.array([0.2, 0.1, 0.5]))
    assert str(caught.value) == "roc_auc needs at least two rows of each class for an interval"
    # One positive in 40 rows: most resamples have no positive, so F1 is undefined on them.
    truth = np.zeros(40, dtype=int)
    truth[0] = 1
    with pytest.raises(ValueError) as caught:
        interval(get_metric("f1"), truth, truth, n_boot=12)
    assert (
        str(caught.value)
        == "the metric is undefined on too many bootstrap resamples for an interval"
    )
    with pytest.raises(ValueError) as caught:
        interval(get_metric("mae"), np.ones(3), np.ones(3), level=1.5)
    assert str(caught.value) == "confidence level must be between 0 and 1, not 1.5"
