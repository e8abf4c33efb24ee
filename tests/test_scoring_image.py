"""A challenge's scoring.py in its declared ``scoring_image``: sandboxed, with the truth and
the predictions only, and with the same scores and intervals as in the runner's process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_scorercheck import CHALLENGE, GOOD, repo_with_scorer

from runner.cli import main

ROWS = 120
MANIFEST = "submissions/toy/alice/first.yaml"
# What it ran as, where: the sandbox's unprivileged user, without a network.
WHO = (
    "import os, socket\n"
    "def score(truth, predictions):\n"
    "    try:\n"
    "        socket.create_connection(('10.255.255.1', 80), timeout=2)\n"
    "        online = 1.0\n"
    "    except OSError:\n"
    "        online = 0.0\n"
    "    return {'hits': float(os.getuid()) + online}\n"
)


def make_repo(tmp_path: Path, source: str, image: str | None) -> Path:
    root = repo_with_scorer(tmp_path, source)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, ROWS)
    guesses = np.clip(labels * 0.5 + rng.random(ROWS) * 0.6, 0, 1)
    truth = ["id,y,split", *(f"{i},{y},public" for i, y in enumerate(labels))]
    (root / "challenges/toy/hidden/truth.csv").write_text("\n".join(truth) + "\n")
    (root / "challenges/toy/hidden/inputs/test.csv").write_text(
        "id\n" + "".join(f"{i}\n" for i in range(ROWS))
    )
    rows = ["id,y", *(f"{i},{float(p)!r}" for i, p in enumerate(guesses))]
    (root / "submissions/toy/alice/first.csv").write_text("\n".join(rows) + "\n")
    if image:
        path = root / CHALLENGE
        path.write_text(path.read_text() + f"scoring_image: {image}\n")
    return root


def evaluate(root: Path, capsys, code: int = 0) -> dict:
    results = root / "results"
    args = ["evaluate", str(root / MANIFEST), "--root", str(root), "--results", str(results)]
    assert main([*args, "--no-limits"]) == code
    capsys.readouterr()
    (record,) = results.rglob("*.json")
    return json.loads(record.read_text())


@pytest.mark.docker
def test_scores_and_intervals_equal_the_runners_own(tmp_path, capsys, python_image):
    here = evaluate(make_repo(tmp_path / "here", GOOD, None), capsys)
    there = evaluate(make_repo(tmp_path / "there", GOOD, python_image), capsys)
    assert here["status"] == there["status"] == "scored"
    hits = there["scores"]["public"]["hits"]
    assert hits["ci_low"] is not None and hits["ci_low"] < hits["value"] < hits["ci_high"]
    assert there["scores"] == here["scores"]  # the same value and the same 16 buckets


@pytest.mark.docker
def test_it_runs_unprivileged_and_offline(tmp_path, capsys, python_image):
    record = evaluate(make_repo(tmp_path, WHO, python_image), capsys)
    assert record["scores"]["public"]["hits"]["value"] == 65534.0  # nobody, and no network


@pytest.mark.docker
@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("def score(truth, predictions):\n    return {'hit': 1.0}\n", "returned no 'hits'"),
        ("def score(truth, predictions):\n    return [1]\n", "returned list, not a dict"),
        ("def score(truth, predictions):\n    return {'hits': float('nan')}\n", "'nan'"),
        ("import not_installed_anywhere\n", "cannot load score()"),
    ],
)
def test_a_broken_scorer_in_its_image_is_reported_like_one_in_the_runner(
    tmp_path, capsys, python_image, source, said
):
    root = make_repo(tmp_path, source, python_image)
    code = main(["validate", "--root", str(root), "--run-scorers"])
    out = capsys.readouterr().out
    assert code == 1 and said in out, out
    record = evaluate(root, capsys, code=1)
    assert record["status"] == "error"  # the platform's fault: never counted
    assert record["scores"] == {}


@pytest.mark.docker
def test_a_missing_image_is_an_error_not_a_score(tmp_path, capsys, python_image):
    record = evaluate(make_repo(tmp_path, GOOD, "challenge-runner/absent:nowhere"), capsys, 1)
    assert record["status"] == "error"


def test_scoring_image_needs_a_scoring_py(tmp_path, capsys):
    root = make_repo(tmp_path, GOOD, None)
    path = root / CHALLENGE
    path.write_text(path.read_text().replace("scoring: scoring.py\n", "scoring_image: x\n"))
    assert main(["validate", "--root", str(root)]) == 1
    assert "scoring_image runs scoring.py: add scoring: or remove it" in capsys.readouterr().out
