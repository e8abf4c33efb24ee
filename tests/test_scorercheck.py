"""`validate --run-scorers` calls a challenge's scoring.py as evaluations would, on made-up
rows, and reports what would otherwise turn every evaluation into an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.cli import main

BASE = Path(__file__).parent / "examples" / "base"
CHALLENGE = "challenges/toy/challenge.yaml"
GOOD = (
    "def score(truth, predictions):\n"
    "    assert list(truth['id']) == list(predictions['id'])  # id-aligned\n"
    "    return {'hits': float(((predictions['y'] >= 0.5) == truth['y']).mean())}\n"
)


def repo_with_scorer(tmp_path: Path, source: str) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    path = root / CHALLENGE
    text = path.read_text().replace(
        "  - {name: log_loss}\n", "  - {name: hits, custom: true, higher_is_better: true}\n"
    )
    path.write_text(text + "scoring: scoring.py\n")
    (root / "challenges/toy/scoring.py").write_text(source)
    return root


def validate(root: Path, capsys, *flags: str) -> tuple[int, str]:
    code = main(["validate", "--root", str(root), *flags])
    return code, capsys.readouterr().out


def test_a_working_scorer_passes(tmp_path, capsys):
    code, out = validate(repo_with_scorer(tmp_path, GOOD), capsys, "--run-scorers")
    assert code == 0, out
    assert out.endswith("all valid\n")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "def score(truth, predictions):\n    return {'hit': 1.0}\n",
            "challenges/toy/scoring.py: score() fails on made-up rows: score() returned no "
            "'hits' on the public split (keys: ['hit'])",
        ),
        (
            "def score(truth, predictions):\n    return {'hits': 'high'}\n",
            "challenges/toy/scoring.py: score() fails on made-up rows: score() returned 'high' "
            "for 'hits' on the public split; need a finite number",
        ),
        (
            "def score(truth, predictions):\n    return truth['nope']\n",
            "challenges/toy/scoring.py: score() fails on made-up rows: score() raised on the "
            "public split:\nTraceback",
        ),
        (
            "import not_installed_anywhere\n",
            "challenges/toy/scoring.py: score() fails on made-up rows: ",
        ),
    ],
)
def test_a_broken_scorer_is_reported_before_any_evaluation(tmp_path, capsys, source, message):
    root = repo_with_scorer(tmp_path, source)
    assert validate(root, capsys) == (0, "3 file(s) checked: all valid\n")  # opt-in only
    code, out = validate(root, capsys, "--run-scorers")
    assert code == 1
    assert message in out
