"""The metric registry: every metric a challenge can name in ``challenge.yaml``.

Each family lives in its own module (``labels``, ``ranking``, ``probabilistic``,
``regression``) as small vectorised numpy functions wrapped in ``Metric`` records that carry
``name``, ``higher_is_better``, ``range``, ``kind`` (the predictions column type it needs),
``precision`` (display decimals) and, for means of per-row losses, ``per_row_loss``.
Every metric agrees with scikit-learn to 1e-9 (tests/test_metrics.py); scikit-learn is not
needed at runtime. Inputs for which a metric is undefined (e.g. a single-class truth for
``roc_auc``) raise ``ValueError`` rather than returning NaN.
"""

from __future__ import annotations

from runner.metrics import labels, probabilistic, ranking, regression
from runner.metrics.base import Metric

__all__ = ["REGISTRY", "Metric", "get_metric", "names"]

REGISTRY: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        *labels.METRICS,
        *ranking.METRICS,
        *probabilistic.METRICS,
        *regression.METRICS,
    )
}


def names() -> list[str]:
    """Every registered metric name, sorted."""
    return sorted(REGISTRY)


def get_metric(name: str) -> Metric:
    """The metric called ``name``; ``KeyError`` listing the known names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known metrics: {', '.join(names())}") from None
