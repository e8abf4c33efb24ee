"""Confidence intervals for every registry metric, seeded and linear (or n log n) at scale.

Which method, by metric and size (n rows, B = ``n_boot`` resamples):

* ``roc_auc`` — DeLong's variance from the placement values (DeLong, DeLong & Clarke-Pearson
  1988), a normal interval clipped to [0, 1]. One sort per class: O(n log n) at any size.
* Means of per-row losses (accuracy, log_loss, brier, rmse, mae, mape) — a seeded percentile
  bootstrap over rows while ``n * B <= ROW_BOOTSTRAP_BUDGET``, vectorised as gathers of the
  loss vector; above that, the normal interval of the mean loss (the central limit theorem is
  excellent there), mapped through the metric's monotone ``from_mean_loss`` (e.g. sqrt for
  rmse, ``1 - x`` for accuracy). O(n).
* Every other metric — the same row bootstrap (one metric call per resample) while
  ``n * B <= LOOP_BOOTSTRAP_BUDGET``; above that, random row buckets: the rows are shuffled
  (seeded) into ``BUCKETS`` equal buckets, the metric is computed on each, and the spread of
  the bucket values gives the standard error of the full-data value (batch means: a
  sqrt(n)-consistent statistic on n/K rows has K times the variance), with a Student t
  quantile on K - 1 degrees of freedom. One pass over the data.

Resamples or buckets on which a metric is undefined (e.g. a single-class bucket) are skipped;
if too few remain, ``ValueError`` says so and the caller leaves the interval empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from runner.metrics import Metric
from runner.metrics.ranking import auc_from_placements, binary_inputs, placements

ROW_BOOTSTRAP_BUDGET = 20_000_000  # gathered loss values; ~0.2 s
LOOP_BOOTSTRAP_BUDGET = 5_000_000  # rows fed to metric calls
BUCKETS = 50
MIN_VALID = 10


def interval(
    metric: Metric,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """The ``level`` confidence interval ``(low, high)`` of ``metric`` on these rows."""
    _, low, high = estimate(metric, y_true, y_pred, level=level, n_boot=n_boot, seed=seed)
    return low, high


def estimate(
    metric: Metric,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(value, low, high)``: the metric and its interval, sharing one pass over the data."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be between 0 and 1, not {level}")
    rng = np.random.default_rng(seed)
    n = len(y_true)
    if metric.name == "roc_auc":
        value, low, high = _delong(y_true, y_pred, level)
    elif metric.per_row_loss is not None:
        value, low, high = _mean_loss(metric, y_true, y_pred, level, n_boot, rng)
    elif n * n_boot <= LOOP_BOOTSTRAP_BUDGET:
        value = metric(y_true, y_pred)
        low, high = _percentiles(_resampled_values(metric, y_true, y_pred, n_boot, rng), level)
    else:
        value = metric(y_true, y_pred)
        low, high = _buckets(metric, y_true, y_pred, value, level, rng)
    return value, *_clip(metric, low, high)


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _clip(metric: Metric, low: float, high: float) -> tuple[float, float]:
    floor, ceiling = metric.range
    return float(np.clip(low, floor, ceiling)), float(np.clip(high, floor, ceiling))


def _delong(y_true: np.ndarray, y_pred: np.ndarray, level: float) -> tuple[float, float, float]:
    positive, scores = binary_inputs(y_true, y_pred, "roc_auc")
    pos_in_neg, neg_in_pos = placements(positive, scores)
    n_pos, n_neg = len(pos_in_neg), len(neg_in_pos)
    value = auc_from_placements(pos_in_neg, n_neg)
    if min(n_pos, n_neg) < 2:
        raise ValueError("roc_auc needs at least two rows of each class for an interval")
    v10, v01 = pos_in_neg / (2.0 * n_neg), neg_in_pos / (2.0 * n_pos)
    se = np.sqrt(np.var(v10, ddof=1) / n_pos + np.var(v01, ddof=1) / n_neg)
    return value, value - _z(level) * se, value + _z(level) * se


def _mean_loss(
    metric: Metric,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    level: float,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    assert metric.per_row_loss is not None and metric.from_mean_loss is not None  # caller checks
    loss = metric.per_row_loss(y_true, y_pred)
    mean = float(np.mean(loss))
    n = len(loss)
    if n * n_boot <= ROW_BOOTSTRAP_BUDGET:
        means = np.concatenate([loss[idx].mean(axis=1) for idx in _index_chunks(n, n_boot, rng)])
        low, high = _percentiles(means, level)
    else:
        half = _z(level) * float(np.std(loss, ddof=1)) / np.sqrt(n)
        low, high = max(mean - half, 0.0), mean + half  # losses are never negative
    ends = sorted((metric.from_mean_loss(low), metric.from_mean_loss(high)))
    return metric.from_mean_loss(mean), ends[0], ends[1]


def _index_chunks(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Bootstrap index matrices of at most ~2M entries each (bounded memory)."""
    per_chunk = max(1, 2_000_000 // n)
    for start in range(0, n_boot, per_chunk):
        yield rng.integers(0, n, size=(min(per_chunk, n_boot - start), n))


def _resampled_values(
    metric: Metric, y_true: np.ndarray, y_pred: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    values = []
    for idx in _index_chunks(len(y_true), n_boot, rng):
        for rows in idx:
            try:
                values.append(metric.fn(y_true[rows], y_pred[rows]))
            except ValueError:  # e.g. a resample with one class: undefined, not an outlier
                continue
    return _enough(values, "bootstrap resamples")


def _buckets(
    metric: Metric,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    value: float,
    level: float,
    rng: np.random.Generator,
) -> tuple[float, float]:
    values = []
    for rows in np.array_split(rng.permutation(len(y_true)), BUCKETS):
        try:
            values.append(metric.fn(y_true[rows], y_pred[rows]))
        except ValueError:
            continue
    return bucket_bounds(_enough(values, "row buckets"), value, level)


def bucket_bounds(values: np.ndarray, value: float, level: float) -> tuple[float, float]:
    """Batch-means interval around ``value`` from a metric's values on K disjoint buckets."""
    k = len(values)
    half = t_quantile(level, k - 1) * float(np.std(values, ddof=1)) / np.sqrt(k)
    return value - half, value + half


def t_quantile(level: float, df: int) -> float:
    """Two-sided Student t quantile (Cornish-Fisher expansion; 1e-3 accurate for df >= 5)."""
    z = _z(level)
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def _enough(values: list[float], what: str) -> np.ndarray:
    if len(values) < MIN_VALID:
        raise ValueError(f"the metric is undefined on too many {what} for an interval")
    return np.asarray(values, dtype=np.float64)
