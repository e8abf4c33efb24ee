"""Multi-class metrics and rank metrics on raw scores, configured from challenge.yaml and
scored end to end through `challenge-runner evaluate`, equal to scikit-learn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from runner.cli import main
from runner.loader import load_repo

BASE = Path(__file__).parent / "examples" / "base"
CHALLENGE = "challenges/toy/challenge.yaml"
ROWS = 60


def toy(tmp_path: Path, predictions: str, metrics: str, truth: str, submitted: str) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    path = root / CHALLENGE
    text = path.read_text()
    text = text.replace("  columns: {y: probability}", f"  columns: {predictions}")
    text = text.replace("  - {name: roc_auc}\n  - {name: log_loss}\n", metrics)
    path.write_text(text)
    (root / "challenges/toy/hidden/truth.csv").write_text(truth)
    (root / "submissions/toy/alice/first.csv").write_text(submitted)
    return root


def evaluate(root: Path, monkeypatch, capsys) -> dict:
    monkeypatch.chdir(root)
    assert main(["evaluate", "submissions/toy/alice/first.yaml", "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)["scores"]["public"]


def test_multiclass_metrics_over_all_columns(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(5)
    classes = rng.integers(0, 3, ROWS)
    classes[:3] = [0, 1, 2]
    proba = rng.dirichlet([1, 1, 1], ROWS)
    truth = "id,a,b,c,split\n" + "".join(
        f"{i},{int(k == 0)},{int(k == 1)},{int(k == 2)},public\n" for i, k in enumerate(classes)
    )
    submitted = "id,a,b,c\n" + "".join(
        f"{i},{float(p[0])!r},{float(p[1])!r},{float(p[2])!r}\n" for i, p in enumerate(proba)
    )
    root = toy(
        tmp_path,
        "{a: probability, b: probability, c: probability}",
        "  - {name: roc_auc_ovr, column: null}\n  - {name: log_loss, column: null}\n",
        truth,
        submitted,
    )
    scores = evaluate(root, monkeypatch, capsys)
    assert scores["roc_auc_ovr"]["value"] == pytest.approx(
        roc_auc_score(classes, proba, multi_class="ovr"), abs=1e-9
    )
    assert scores["log_loss"]["value"] == pytest.approx(log_loss(classes, proba), abs=1e-9)


def test_rank_metrics_take_raw_scores_of_any_sign(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(9)
    labels = rng.integers(0, 2, ROWS)
    labels[:2] = [0, 1]
    raw = rng.normal(loc=labels * 40.0, scale=60.0)  # a biomarker: negative and above 1
    truth = "id,y,split\n" + "".join(f"{i},{k},public\n" for i, k in enumerate(labels))
    submitted = "id,y\n" + "".join(f"{i},{float(v)!r}\n" for i, v in enumerate(raw))
    root = toy(tmp_path, "{y: score}", "  - {name: roc_auc}\n", truth, submitted)
    scores = evaluate(root, monkeypatch, capsys)
    assert scores["roc_auc"]["value"] == pytest.approx(roc_auc_score(labels, raw), abs=1e-12)


@pytest.mark.parametrize(
    ("predictions", "metrics", "message"),
    [
        (
            "{a: probability, b: probability}",
            "  - {name: roc_auc, column: null}\n",
            "$.metrics[0].column: roc_auc scores one column; column: null is for brier, "
            "log_loss, roc_auc_ovr",
        ),
        (
            "{a: probability, b: label}",
            "  - {name: log_loss, column: null}\n",
            "$.metrics[0].column: column: null needs two or more prediction columns, all of "
            "kind probability",
        ),
        (
            "{y: score}",
            "  - {name: log_loss}\n",
            "$.metrics[0]: metric 'log_loss' needs a probability column, but 'y' is a score column",
        ),
        (
            "{a: probability, b: probability}",
            "  - {name: log_loss}\n",
            "say which column it scores: add column: (one of a, b), or column: null for a "
            "multi-class metric over all of them",
        ),
    ],
)
def test_metric_and_column_mismatches_are_explained(tmp_path, predictions, metrics, message):
    root = toy(tmp_path, predictions, metrics, "id,y,split\n1,0,public\n", "id,y\n1,0.5\n")
    found = [str(p) for p in load_repo(root).problems if p.path == CHALLENGE]
    assert len(found) == 1 and message in found[0]
