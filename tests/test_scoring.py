"""End-to-end scoring: truth files, splits, registry and custom metrics, intervals, failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk

from runner.errors import DataError, PredictionsError
from runner.models import (
    Challenge,
    HiddenDataSpec,
    LeaderboardSpec,
    MetricSpec,
    PredictionColumn,
    PredictionsSpec,
    SplitSpec,
)
from runner.scoring import (
    PLATFORM_FAULT,
    ScoringError,
    interval_method,
    metric_display,
    read_truth,
    score_predictions,
    split_masks,
)

PROBA = (PredictionColumn("malignant", "probability"),)


def _challenge(root: Path, columns, metrics, **extra) -> Challenge:
    return Challenge(
        id="demo",
        title="Demo",
        summary="A test challenge.",
        root=root,
        maintainers=("octocat",),
        predictions=PredictionsSpec("id", tuple(columns)),
        metrics=tuple(metrics),
        phases=(),
        hidden=HiddenDataSpec(source="hidden"),
        leaderboard=LeaderboardSpec(bootstrap=200),
        **extra,
    )


def _binary_case(tmp_path: Path, n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = [f"r{i:04d}" for i in range(n)]
    truth = rng.integers(0, 2, n)
    proba = np.round(np.clip(rng.random(n) * 0.7 + 0.3 * truth, 0, 1), 2)
    split = np.where(np.arange(n) % 3 == 0, "public", "private")
    pd.DataFrame({"id": ids, "malignant": truth, "split": split}).to_csv(
        tmp_path / "truth.csv", index=False
    )
    order = rng.permutation(n)  # participants may write rows in any order
    pd.DataFrame({"id": np.array(ids)[order], "malignant": proba[order]}).to_csv(
        tmp_path / "pred.csv", index=False
    )
    return truth, proba, split


def test_binary_probabilities_score_like_sklearn_on_each_split(tmp_path: Path) -> None:
    truth, proba, split = _binary_case(tmp_path)
    metrics = [
        MetricSpec("log_loss"),  # primary: its per-row losses feed the Ladder
        MetricSpec("roc_auc", column="malignant"),
        MetricSpec("accuracy"),
    ]
    challenge = _challenge(tmp_path, PROBA, metrics)
    outcome = score_predictions(
        challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
    )
    assert set(outcome.scores) == {"public", "private"}
    for name in ("public", "private"):
        t, p = truth[split == name], proba[split == name]
        scores = outcome.scores[name]
        assert scores["roc_auc"].value == pytest.approx(sk.roc_auc_score(t, p), abs=1e-12)
        assert scores["log_loss"].value == pytest.approx(sk.log_loss(t, p), abs=1e-12)
        assert scores["accuracy"].value == pytest.approx(sk.accuracy_score(t, p >= 0.5), abs=1e-12)
        for score in scores.values():
            assert score.ci_low < score.value < score.ci_high
    public = split == "public"
    rows = -np.log(np.where(truth[public] == 1, proba[public], 1 - proba[public]))
    assert outcome.ladder.n == public.sum() == 134
    assert outcome.ladder.loss_mean == pytest.approx(rows.mean(), abs=1e-12)
    assert outcome.ladder.loss_sd == pytest.approx(rows.std(ddof=1), abs=1e-12)


def test_truth_is_typed_arrow_and_numpy_and_its_pandas_view_keeps_the_scorer_contract(
    tmp_path: Path,
) -> None:
    (tmp_path / "truth.csv").write_text(
        "id,y,animal,split,note\n7, 1e3 ,cat,public,2.5\n08,-0.5,dog,Private ,\n"
    )
    columns = [PredictionColumn("y", "number"), PredictionColumn("animal", "label")]
    challenge = _challenge(tmp_path, columns, [MetricSpec("rmse", column="y")])
    truth = read_truth(tmp_path / "truth.csv", challenge)
    assert len(truth) == 2
    assert truth.ids.to_pylist() == ["7", "08"]  # ids stay text: "08" is not 8
    assert truth.targets["y"].dtype == np.float64
    assert truth.targets["y"].tolist() == [1000.0, -0.5]
    assert truth.targets["animal"].tolist() == ["cat", "dog"]
    frame = truth.to_pandas()
    assert list(frame.columns) == ["id", "y", "animal", "split", "note"]
    assert [str(dtype) for dtype in frame.dtypes] == ["str", "float64", "str", "str", "float64"]
    assert frame["y"].tolist() == [1000.0, -0.5]
    assert frame["split"].tolist() == ["public", "Private "]
    assert frame["note"].iloc[0] == 2.5 and np.isnan(frame["note"].iloc[1])


def test_probability_truth_is_0_1_int8_in_arrow_numpy_and_pandas(tmp_path: Path) -> None:
    (tmp_path / "truth.csv").write_text(
        "id,malignant,split\na,1,public\nb, False,public\nc,1.0,private\n"
        "d,TRUE,public\ne,0.0,public\n"
    )
    challenge = _challenge(tmp_path, PROBA, [MetricSpec("roc_auc")])
    truth = read_truth(tmp_path / "truth.csv", challenge)
    assert truth.targets["malignant"].dtype == np.int8
    assert truth.targets["malignant"].tolist() == [1, 0, 1, 1, 0]
    assert truth.table.column("malignant").to_pylist() == [1, 0, 1, 1, 0]
    assert str(truth.to_pandas()["malignant"].dtype) == "int8"


NO_PANDAS_SCRIPT = """
import json, sys
from pathlib import Path
from runner.errors import PredictionsError
from runner.models import *
from runner.scoring import read_truth, score_predictions
root, columns, metrics, split = Path(sys.argv[1]), *json.loads(sys.argv[2])
challenge = Challenge(
    id="demo", title="Demo", summary="s", root=root, maintainers=("octocat",), phases=(),
    hidden=HiddenDataSpec(source="hidden"), leaderboard=LeaderboardSpec(bootstrap=200),
    predictions=PredictionsSpec("id", tuple(PredictionColumn(*c) for c in columns)),
    metrics=tuple(MetricSpec(m) for m in metrics), split=SplitSpec(**split))
try:
    outcome = score_predictions(challenge, read_truth(root / "truth.csv", challenge),
                                root / "pred.csv")
    print(sorted(outcome.scores), "pandas" in sys.modules)
except PredictionsError as err:
    print(err.message, "pandas" in sys.modules)
"""


def _label_case(tmp_path: Path) -> None:
    animals = ["cat", "dog", "owl"]
    (tmp_path / "truth.csv").write_text(
        "id,animal,split\n" + "".join(f"{i},{animals[i % 3]},public\n" for i in range(60))
    )
    (tmp_path / "pred.csv").write_text(  # reversed rows: labels are reordered to the truth
        "id,animal\n" + "".join(f"{i},{animals[i % 2]}\n" for i in reversed(range(60)))
    )


def _number_case(tmp_path: Path) -> None:
    body = "".join(f"{i},{i % 7}.5\n" for i in range(50))
    (tmp_path / "truth.csv").write_text("id,y\n" + body)
    (tmp_path / "pred.csv").write_text("id,y\n" + body.replace(".5", ".25"))


def _invalid_case(tmp_path: Path) -> None:
    _binary_case(tmp_path)
    (tmp_path / "pred.csv").write_text("id,malignant\nr0000,nan\n")


@pytest.mark.parametrize(
    ("case", "setup", "spec", "expected"),
    [
        (
            "probability",
            _binary_case,
            [[["malignant", "probability"]], ["log_loss", "roc_auc", "accuracy"], {}],
            "['private', 'public'] False",
        ),
        (
            "labels",
            _label_case,
            [[["animal", "label", ["cat", "dog", "owl"]]], ["f1_macro", "cohen_kappa"], {}],
            "['public'] False",
        ),
        (
            "numbers",
            _number_case,
            [
                [["y", "number"]],
                ["rmse", "r2"],
                {"column": None, "public_fraction": 0.5, "seed": 1},
            ],
            "['private', 'public'] False",
        ),
        (
            "invalid",
            _invalid_case,
            [[["malignant", "probability"]], ["roc_auc"], {}],
            "399 test id(s) have no prediction, e.g. 'r0001', 'r0002', 'r0003'; write one row "
            "for every test id False",
        ),
    ],
)
def test_scoring_with_registry_metrics_never_imports_pandas(
    tmp_path: Path, case: str, setup, spec: list, expected: str
) -> None:
    setup(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", NO_PANDAS_SCRIPT, str(tmp_path), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == expected + "\n"


def test_scores_are_reproducible_for_a_seed(tmp_path: Path) -> None:
    _binary_case(tmp_path)
    challenge = _challenge(tmp_path, PROBA, [MetricSpec("average_precision")])
    truth = read_truth(tmp_path / "truth.csv", challenge)
    first = score_predictions(challenge, truth, tmp_path / "pred.csv", seed=3)
    assert first == score_predictions(challenge, truth, tmp_path / "pred.csv", seed=3)
    assert first.ladder is None  # average precision is not a mean of per-row losses


def test_invalid_predictions_raise_before_any_metric(tmp_path: Path) -> None:
    _binary_case(tmp_path, n=30)
    (tmp_path / "pred.csv").write_text("id,malignant\nr0000,1.2\n")
    challenge = _challenge(tmp_path, PROBA, [MetricSpec("roc_auc")])
    with pytest.raises(PredictionsError) as caught:
        score_predictions(
            challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
        )
    assert caught.value.message == (
        "29 test id(s) have no prediction, e.g. 'r0001', 'r0002', 'r0003'; "
        "write one row for every test id"
    )


def test_label_columns_and_thresholded_probabilities(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 240
    truth = rng.choice(["cat", "dog", "owl"], n)
    guess = np.where(rng.random(n) < 0.7, truth, rng.choice(["cat", "dog", "owl"], n))
    ids = [str(i) for i in range(n)]
    pd.DataFrame({"id": ids, "animal": truth, "split": "public"}).to_csv(
        tmp_path / "truth.csv", index=False
    )
    pd.DataFrame({"id": ids, "animal": guess}).to_csv(tmp_path / "pred.csv", index=False)
    columns = [PredictionColumn("animal", "label", ("cat", "dog", "owl"))]
    challenge = _challenge(tmp_path, columns, [MetricSpec("f1_macro"), MetricSpec("cohen_kappa")])
    outcome = score_predictions(
        challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
    )
    assert list(outcome.scores) == ["public"]  # no private rows: that split is left out
    public = outcome.scores["public"]
    assert public["f1_macro"].value == pytest.approx(
        sk.f1_score(truth, guess, average="macro"), abs=1e-12
    )
    assert public["cohen_kappa"].value == pytest.approx(
        sk.cohen_kappa_score(truth, guess), abs=1e-12
    )
    assert outcome.ladder is None


def test_one_hot_truth_feeds_multiclass_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    n, classes = 300, ["a", "b", "c"]
    label = rng.integers(0, 3, n)
    proba = rng.dirichlet(np.ones(3), n)
    proba[np.arange(n), label] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    ids = [f"x{i}" for i in range(n)]
    onehot = {c: (label == j).astype(int) for j, c in enumerate(classes)}
    pd.DataFrame({"id": ids, **onehot, "split": "private"}).to_csv(
        tmp_path / "truth.csv", index=False
    )
    pd.DataFrame({"id": ids, **{c: proba[:, j] for j, c in enumerate(classes)}}).to_csv(
        tmp_path / "pred.csv", index=False, float_format="%.17g"
    )
    columns = [PredictionColumn(c, "probability") for c in classes]
    challenge = _challenge(tmp_path, columns, [MetricSpec("roc_auc_ovr"), MetricSpec("log_loss")])
    outcome = score_predictions(
        challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
    )
    private = outcome.scores["private"]
    assert private["roc_auc_ovr"].value == pytest.approx(
        sk.roc_auc_score(label, proba, multi_class="ovr"), abs=1e-12
    )
    assert private["log_loss"].value == pytest.approx(sk.log_loss(label, proba), abs=1e-12)
    assert outcome.ladder is None  # no public split


def test_regression_with_a_seeded_fraction_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 500
    y = rng.normal(size=n)
    pred = y + rng.normal(0, 0.5, n)
    ids = [str(i) for i in range(n)]
    pd.DataFrame({"id": ids, "y": y}).to_csv(
        tmp_path / "truth.csv", index=False, float_format="%.17g"
    )
    pd.DataFrame({"id": ids, "y": pred}).to_csv(
        tmp_path / "pred.csv", index=False, float_format="%.17g"
    )
    challenge = _challenge(
        tmp_path,
        [PredictionColumn("y", "number")],
        [MetricSpec("rmse"), MetricSpec("r2")],
        split=SplitSpec(column=None, public_fraction=0.3, seed=7),
    )
    truth = read_truth(tmp_path / "truth.csv", challenge)
    masks = split_masks(truth, challenge)
    assert masks["public"].sum() == 150 and not (masks["public"] & masks["private"]).any()
    assert (masks["public"] == split_masks(truth, challenge)["public"]).all()
    outcome = score_predictions(challenge, truth, tmp_path / "pred.csv")
    public = masks["public"]
    assert outcome.scores["public"]["rmse"].value == pytest.approx(
        sk.root_mean_squared_error(y[public], pred[public]), abs=1e-12
    )
    assert outcome.scores["private"]["r2"].value == pytest.approx(
        sk.r2_score(y[~public], pred[~public]), abs=1e-12
    )


def test_degenerate_truth_is_the_platforms_fault(tmp_path: Path) -> None:
    ids = [str(i) for i in range(10)]
    pd.DataFrame(
        {"id": ids, "malignant": [0] * 5 + [1] * 5, "split": ["public"] * 5 + ["private"] * 5}
    ).to_csv(tmp_path / "truth.csv", index=False)
    pd.DataFrame({"id": ids, "malignant": 0.5}).to_csv(tmp_path / "pred.csv", index=False)
    challenge = _challenge(tmp_path, PROBA, [MetricSpec("roc_auc")])
    with pytest.raises(ScoringError) as caught:
        score_predictions(
            challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
        )
    assert caught.value.message == PLATFORM_FAULT
    assert caught.value.detail == (
        "metric 'roc_auc' on the public split: "
        "roc_auc is undefined when the truth has only one class"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"id": ["1", "2"], "split": ["public", "private"]},
            "truth.csv lacks column(s) 'malignant'",
        ),
        (
            {"id": ["1", "1"], "malignant": [0, 1], "split": ["public"] * 2},
            "truth.csv repeats 1 id(s), e.g. '1'",
        ),
        (
            {"id": ["1", "2"], "malignant": [0, 0.7], "split": ["public"] * 2},
            "truth.csv column 'malignant' must hold binary labels 0/1 for a probability "
            "column; line(s) 3 do not",
        ),
    ],
)
def test_bad_truth_files_are_data_errors(tmp_path: Path, table: dict, message: str) -> None:
    pd.DataFrame(table).to_csv(tmp_path / "truth.csv", index=False)
    with pytest.raises(DataError) as caught:
        read_truth(tmp_path / "truth.csv", _challenge(tmp_path, PROBA, [MetricSpec("roc_auc")]))
    assert caught.value.message == message


def test_bad_split_values_are_data_errors(tmp_path: Path) -> None:
    pd.DataFrame(
        {"id": ["1", "2", "3"], "malignant": [0, 1, 1], "split": ["public", "Private", "test"]}
    ).to_csv(tmp_path / "truth.csv", index=False)
    challenge = _challenge(tmp_path, PROBA, [MetricSpec("roc_auc")])
    with pytest.raises(DataError) as caught:
        split_masks(read_truth(tmp_path / "truth.csv", challenge), challenge)
    assert (
        caught.value.message
        == "truth.csv column 'split' must say 'public' or 'private'; line(s) 4 do not"
    )


SCORERS = {
    "good": "import pandas as pd\n"
    "def score(truth, predictions):\n"
    "    assert isinstance(truth, pd.DataFrame) and isinstance(predictions, pd.DataFrame)\n"
    "    assert list(truth.index) == list(predictions.index) == list(range(len(truth)))\n"
    "    assert (truth['id'] == predictions['id']).all()  # aligned by id, rows in truth order\n"
    "    assert str(truth['malignant'].dtype) == 'int8'\n"
    "    assert str(predictions['malignant'].dtype) == 'float64'\n"
    "    hit = (truth['malignant'] == (predictions['malignant'] >= 0.5)).mean()\n"
    "    return {'hit_rate': float(hit), 'rows': len(truth)}\n",
    "raises": "def score(truth, predictions):\n    return {'hit_rate': 1 / 0}\n",
    "nan": "def score(truth, predictions):\n    return {'hit_rate': float('nan')}\n",
    "missing": "def score(truth, predictions):\n    return {'other': 1.0}\n",
    "syntax": "def score(truth, predictions)\n    return {}\n",
}


def _custom(tmp_path: Path, source: str) -> Challenge:
    (tmp_path / "scoring.py").write_text(source)
    metrics = [
        MetricSpec("hit_rate", custom=True, higher_is_better=True, precision=3),
        MetricSpec("roc_auc"),
    ]
    return _challenge(tmp_path, PROBA, metrics, scoring=tmp_path / "scoring.py")


def test_custom_scorer_values_and_bucket_intervals(tmp_path: Path) -> None:
    truth, proba, split = _binary_case(tmp_path)
    challenge = _custom(tmp_path, SCORERS["good"])
    outcome = score_predictions(
        challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
    )
    for name in ("public", "private"):
        rows = split == name
        score = outcome.scores[name]["hit_rate"]
        assert score.value == pytest.approx(np.mean(truth[rows] == (proba[rows] >= 0.5)), abs=1e-12)
        assert score.ci_low < score.value < score.ci_high
    assert metric_display(challenge, challenge.metrics[0]) == (True, 3)
    assert metric_display(challenge, MetricSpec("log_loss")) == (False, 4)
    assert metric_display(challenge, MetricSpec("rmse", precision=2)) == (False, 2)


@pytest.mark.parametrize(
    ("case", "detail_start", "detail_contains"),
    [
        (
            "raises",
            "score() raised on the public split:\nTraceback",
            "ZeroDivisionError: division by zero",
        ),
        (
            "nan",
            "score() returned nan for 'hit_rate' on the public split; need a finite number",
            "",
        ),
        ("missing", "score() returned no 'hit_rate' on the public split (keys: ['other'])", ""),
        ("syntax", f"{'{root}'}/scoring.py: cannot load score():\nTraceback", "SyntaxError"),
    ],
)
def test_custom_scorer_failures_are_errors_with_maintainer_detail(
    tmp_path: Path, case: str, detail_start: str, detail_contains: str
) -> None:
    _binary_case(tmp_path, n=60)
    challenge = _custom(tmp_path, SCORERS[case])
    with pytest.raises(ScoringError) as caught:
        score_predictions(
            challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
        )
    assert caught.value.message == (
        "the challenge's scorer failed; this is the platform's fault and does not count "
        "against your limits"
    )
    assert caught.value.detail.startswith(detail_start.replace("{root}", str(tmp_path)))
    assert detail_contains in caught.value.detail


def test_custom_intervals_are_clipped_to_the_declared_range(tmp_path: Path) -> None:
    # A 0-99 metric whose buckets spread wide: its interval must stay inside [0, 99].
    _binary_case(tmp_path)
    source = (
        "def score(truth, predictions):\n"
        "    if len(truth) >= 100:  # a whole split\n"
        "        return {'points': 98.5}\n"
        "    return {'points': float(190 * truth['malignant'].mean())}  # buckets spread\n"
    )
    (tmp_path / "scoring.py").write_text(source)
    spec = MetricSpec("points", custom=True, higher_is_better=True, range=(0.0, 99.0))
    challenge = _challenge(tmp_path, PROBA, [spec], scoring=tmp_path / "scoring.py")
    outcome = score_predictions(
        challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
    )
    for name in ("public", "private"):
        score = outcome.scores[name]["points"]
        assert score.value == 98.5
        assert score.ci_low is not None and 0.0 <= score.ci_low <= score.ci_high <= 99.0
        assert score.ci_high == 99.0 and score.ci_low < 98.5  # unclipped: far past 99


def test_interval_false_gives_the_value_alone(tmp_path: Path) -> None:
    _binary_case(tmp_path)
    (tmp_path / "scoring.py").write_text(SCORERS["good"])
    metrics = [
        MetricSpec("hit_rate", custom=True, higher_is_better=True, interval=False),
        MetricSpec("roc_auc", interval=False),
        MetricSpec("log_loss"),
    ]
    challenge = _challenge(tmp_path, PROBA, metrics, scoring=tmp_path / "scoring.py")
    outcome = score_predictions(
        challenge, read_truth(tmp_path / "truth.csv", challenge), tmp_path / "pred.csv"
    )
    public = outcome.scores["public"]
    assert (public["hit_rate"].ci_low, public["hit_rate"].ci_high) == (None, None)
    assert (public["roc_auc"].ci_low, public["roc_auc"].ci_high) == (None, None)
    assert public["log_loss"].ci_low is not None
    assert interval_method(metrics[0]) is None
    assert interval_method(MetricSpec("roc_auc")) == "DeLong's variance"
    assert interval_method(MetricSpec("x", custom=True)).startswith("batch means over 16")
