"""Every registry metric against scikit-learn on randomised inputs (ties, few rows, many rows)."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as sk

from runner.metrics import REGISTRY, Metric, get_metric, names

SEEDS = range(25)
# scikit-learn warns when predictions hold a class the truth lacks; we test that case on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")

LABEL_REFERENCE = {
    "accuracy": sk.accuracy_score,
    "balanced_accuracy": sk.balanced_accuracy_score,
    "f1_macro": lambda t, p: sk.f1_score(t, p, average="macro", zero_division=0),
    "f1_micro": lambda t, p: sk.f1_score(t, p, average="micro", zero_division=0),
    "f1_weighted": lambda t, p: sk.f1_score(t, p, average="weighted", zero_division=0),
    "mcc": sk.matthews_corrcoef,
    "cohen_kappa": sk.cohen_kappa_score,
}
BINARY_REFERENCE = {
    "f1": lambda t, p: sk.f1_score(t, p, zero_division=0),
    "precision": lambda t, p: sk.precision_score(t, p, zero_division=0),
    "recall": lambda t, p: sk.recall_score(t, p, zero_division=0),
}
SCORE_REFERENCE = {
    "roc_auc": sk.roc_auc_score,
    "average_precision": sk.average_precision_score,
    "log_loss": lambda t, p: sk.log_loss(t, p, labels=[0, 1]),
    "brier": lambda t, p: sk.brier_score_loss(t, p, labels=[0, 1]),
}
NUMBER_REFERENCE = {
    "rmse": sk.root_mean_squared_error,
    "mae": sk.mean_absolute_error,
    "r2": sk.r2_score,
    "mape": sk.mean_absolute_percentage_error,
    "median_absolute_error": sk.median_absolute_error,
}


def _labels(rng: np.random.Generator, n: int, k: int, as_text: bool) -> np.ndarray:
    codes = rng.integers(0, k, n)
    codes[: min(k, n)] = np.arange(min(k, n))  # every class occurs in the truth
    return np.array([f"c{c}" for c in codes]) if as_text else codes


def _noisy_copy(
    rng: np.random.Generator, y: np.ndarray, k: int, as_text: bool, unseen: bool = True
) -> np.ndarray:
    flip = rng.random(len(y)) < rng.uniform(0.1, 0.9)
    other = _labels(rng, len(y), k + int(unseen and rng.integers(0, 2)), as_text)
    return np.where(flip, other, y)


def _scores(rng: np.random.Generator, positive: np.ndarray) -> np.ndarray:
    raw = rng.random(len(positive)) * 0.7 + 0.3 * positive
    # Coarse rounding makes many ties, the case ROC/PR code most often gets wrong.
    return np.round(raw, int(rng.integers(1, 4)))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(LABEL_REFERENCE))
def test_label_metrics_agree_with_sklearn(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k, as_text = int(rng.integers(4, 400)), int(rng.integers(2, 6)), bool(seed % 2)
    y_true = _labels(rng, n, k, as_text)
    y_pred = _noisy_copy(rng, y_true, k, as_text)
    assert get_metric(name)(y_true, y_pred) == pytest.approx(
        LABEL_REFERENCE[name](y_true, y_pred), abs=1e-9
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(BINARY_REFERENCE))
def test_binary_label_metrics_agree_with_sklearn(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = _labels(rng, int(rng.integers(2, 300)), 2, False)
    y_pred = _noisy_copy(rng, y_true, 2, False, unseen=False)
    if seed % 4 == 0:
        y_pred[:] = seed % 8 // 4  # constant predictions: zero divisions count as 0
    expected = BINARY_REFERENCE[name](y_true, y_pred)
    assert get_metric(name)(y_true, y_pred) == pytest.approx(expected, abs=1e-9)
    as_text = get_metric(name)(y_true.astype(str), y_pred.astype(str))
    assert as_text == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(SCORE_REFERENCE))
def test_probability_metrics_agree_with_sklearn(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y_true = _labels(rng, int(rng.integers(2, 500)), 2, False)
    y_pred = _scores(rng, y_true == 1)
    y_pred[: seed % 3] = 1.0 - y_true[: seed % 3]  # confidently wrong rows hit the clipping
    expected = SCORE_REFERENCE[name](y_true, y_pred)
    assert get_metric(name)(y_true, y_pred) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_probability_metrics_agree_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 6))
    y_true = _labels(rng, int(rng.integers(k + 2, 400)), k, False)
    proba = np.round(rng.dirichlet(np.ones(k), len(y_true)), 2)
    proba[:, -1] = 1.0 - proba[:, :-1].sum(axis=1)  # rows sum to one (ties from rounding)
    proba = np.clip(proba, 0, 1)
    proba /= proba.sum(axis=1, keepdims=True)
    classes = list(range(k))
    assert get_metric("roc_auc_ovr")(y_true, proba) == pytest.approx(
        sk.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes), abs=1e-9
    )
    assert get_metric("log_loss")(y_true, proba) == pytest.approx(
        sk.log_loss(y_true, proba, labels=classes), abs=1e-9
    )
    assert get_metric("brier")(y_true, proba) == pytest.approx(
        sk.brier_score_loss(y_true, proba, labels=classes), abs=1e-9
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(NUMBER_REFERENCE))
def test_regression_metrics_agree_with_sklearn(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 500))
    y_true = np.round(rng.normal(0, 10, n), int(rng.integers(0, 3)))
    y_true[0], y_true[-1] = 0.5, -3.0  # never constant
    y_pred = y_true + np.round(rng.normal(0, rng.uniform(0.1, 5), n), 1)
    expected = NUMBER_REFERENCE[name](y_true, y_pred)
    assert get_metric(name)(y_true, y_pred) == pytest.approx(expected, rel=1e-12, abs=1e-9)


def test_large_inputs_agree_with_sklearn() -> None:
    rng = np.random.default_rng(7)
    n = 1_000_000
    y_true = rng.integers(0, 2, n)
    proba = np.round(rng.random(n) * 0.6 + 0.4 * y_true, 3)
    labels = (proba > 0.5).astype(int)
    values = rng.normal(size=n)
    cases = [
        ("roc_auc", y_true, proba, sk.roc_auc_score),
        ("average_precision", y_true, proba, sk.average_precision_score),
        ("log_loss", y_true, proba, sk.log_loss),
        ("accuracy", y_true, labels, sk.accuracy_score),
        ("mcc", y_true, labels, sk.matthews_corrcoef),
        ("rmse", values, values + proba, sk.root_mean_squared_error),
    ]
    for name, truth, pred, reference in cases:
        assert get_metric(name)(truth, pred) == pytest.approx(reference(truth, pred), abs=1e-9)


@pytest.mark.parametrize(
    ("name", "y_true", "y_pred", "message"),
    [
        (
            "roc_auc",
            [1, 1, 1],
            [0.2, 0.4, 0.9],
            "roc_auc is undefined when the truth has only one class",
        ),
        (
            "average_precision",
            [0, 0],
            [0.2, 0.4],
            "average_precision is undefined when the truth has only one class",
        ),
        ("f1", [0, 0, 0], [0, 1, 0], "f1 is undefined when the truth has only one class"),
        ("mcc", ["a", "a"], ["a", "b"], "mcc is undefined when the truth has only one class"),
        (
            "cohen_kappa",
            [2, 2],
            [2, 2],
            "cohen_kappa is undefined when the truth has only one class",
        ),
        ("f1_macro", [2, 2], [1, 2], "f1_macro is undefined when the truth has only one class"),
        ("r2", [3.0, 3.0], [1.0, 2.0], "r2 is undefined when the truth is constant"),
        (
            "roc_auc_ovr",
            [0, 1, 1],
            [[0.5, 0.2, 0.3]] * 3,
            "roc_auc_ovr is undefined unless every class occurs in the truth",
        ),
        ("roc_auc", [0, 2], [0.1, 0.2], "y_true must hold binary labels 0/1 (positive class 1)"),
        (
            "f1",
            ["0", "yes"],
            ["0", "1"],
            'y_true must hold binary labels "0"/"1" (positive class "1")',
        ),
        ("log_loss", [0, 1], [0.5, 1.2], "y_pred must hold probabilities in [0, 1]"),
        (
            "rmse",
            [1.0, 2.0],
            [np.nan, 1.0],
            "y_pred must hold finite numbers (found NaN or infinity)",
        ),
        ("accuracy", [], [], "no rows to score: the truth is empty"),
        ("mae", [1.0, 2.0], [1.0], "y_true has 2 rows but y_pred has 1"),
    ],
)
def test_undefined_inputs_raise_a_clear_value_error(name, y_true, y_pred, message) -> None:
    with pytest.raises(ValueError) as caught:
        get_metric(name)(np.array(y_true), np.array(y_pred))
    assert str(caught.value) == message


def test_constant_predictions_score_like_sklearn_instead_of_raising() -> None:
    # A participant may predict one class everywhere: that must score, not crash.
    y_true, y_pred = np.array([0, 1, 1, 0]), np.zeros(4, dtype=int)
    assert get_metric("mcc")(y_true, y_pred) == 0.0 == sk.matthews_corrcoef(y_true, y_pred)
    assert get_metric("f1")(y_true, y_pred) == 0.0
    assert get_metric("roc_auc")(y_true, np.full(4, 0.3)) == 0.5


def test_registry_metadata_is_complete() -> None:
    required = {
        "accuracy", "balanced_accuracy", "f1", "f1_macro", "f1_micro", "f1_weighted",
        "precision", "recall", "roc_auc", "roc_auc_ovr", "average_precision", "log_loss",
        "brier", "mcc", "cohen_kappa", "rmse", "mae", "r2", "mape", "median_absolute_error",
    }  # fmt: skip
    assert required <= set(REGISTRY)
    assert names() == sorted(REGISTRY)
    for name, metric in REGISTRY.items():
        assert isinstance(metric, Metric) and metric.name == name
        assert metric.kind in ("label", "probability", "number")
        assert metric.range[0] < metric.range[1] and metric.precision >= 0
    lower_better = {n for n, m in REGISTRY.items() if not m.higher_is_better}
    assert lower_better == {"log_loss", "brier", "rmse", "mae", "mape", "median_absolute_error"}


@pytest.mark.parametrize("name", ["accuracy", "log_loss", "brier", "rmse", "mae", "mape"])
def test_per_row_loss_reproduces_the_metric(name: str) -> None:
    rng = np.random.default_rng(3)
    metric = get_metric(name)
    y_true = rng.integers(0, 2, 200)
    y_pred = rng.random(200) if metric.kind != "label" else rng.integers(0, 2, 200)
    if metric.kind == "number":
        y_true = y_true + rng.normal(size=200)
    loss = metric.per_row_loss(y_true, y_pred)
    assert loss.shape == (200,) and np.all(loss >= 0)
    assert metric.from_mean_loss(float(loss.mean())) == pytest.approx(metric(y_true, y_pred))


def test_unknown_metric_lists_the_known_names() -> None:
    with pytest.raises(KeyError) as caught:
        get_metric("f2")
    assert caught.value.args[0] == f"unknown metric 'f2'; known metrics: {', '.join(names())}"


@pytest.mark.parametrize("seed", range(10))
def test_one_sort_placements_equal_the_two_sort_ones(seed: int) -> None:
    from runner.metrics.ranking import placements

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    positive = rng.random(n) < 0.4
    positive[:2] = [True, False]
    scores = np.round(rng.random(n), int(rng.integers(0, 3)))  # many ties
    scores[rng.random(n) < 0.1] = -0.0  # the same score as 0.0
    fast = placements(positive, scores)
    slow = placements(positive, scores - 1.0)  # negative scores take the two-sort path
    assert [sorted(a.tolist()) for a in fast] == [sorted(a.tolist()) for a in slow]
    assert get_metric("roc_auc")(positive.astype(int), scores) == pytest.approx(
        sk.roc_auc_score(positive, scores), abs=1e-12
    )
