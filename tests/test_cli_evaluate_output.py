"""What local `evaluate` prints: scores at the challenge's precision, and a container's
output only for a run on the caller's own --data (never on the challenge's hidden data)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from interleave import interleaves
from site_repo import CHALLENGE, EVALS, result

from runner.cli import main
from runner.cli.evaluate import summary_lines
from runner.loader import load_challenge

ROOT = Path(__file__).resolve().parents[1]
HUBOT = "submissions/breast-cancer/hubot/small-logreg.yaml"
CRASH = """\
import sys
print("reading /input/test.csv", flush=True)
print("KeyError: 'mean_radius'", file=sys.stderr, flush=True)
sys.exit(2)
"""


def test_interleaves_accepts_only_merges_that_keep_each_streams_order() -> None:
    out, err = ["a", "b"], ["x", "y"]
    assert interleaves(["a", "x", "b", "y"], out, err)
    assert interleaves(["x", "y", "a", "b"], out, err)
    assert not interleaves(["b", "a", "x", "y"], out, err)  # stdout out of order
    assert not interleaves(["a", "b", "x"], out, err)  # a line lost
    assert not interleaves(["a", "b", "x", "y", "y"], out, err)  # a line twice
    assert not interleaves(["a", "b", "x", "z"], out, err)  # a line changed
    assert interleaves(["a", "a"], ["a"], ["a"])


def test_scores_are_printed_at_the_challenges_precision(tmp_path: Path) -> None:
    folder = tmp_path / "cells"
    (folder / "public").mkdir(parents=True)
    (folder / "challenge.yaml").write_text(CHALLENGE)
    challenge = load_challenge(folder)
    lines = summary_lines(result(EVALS[0], 0), challenge)
    assert lines == [
        "status: scored",
        "  public roc_auc: 0.9000  [0.8800, 0.9200]",
        "  public log_loss: 0.310  [0.300, 0.320]",  # log_loss: precision 3 in challenge.yaml
    ]


@pytest.fixture
def crashing(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for part in ("challenges", "submissions"):
        shutil.copytree(ROOT / part, root / part)
    shutil.copy(ROOT / "teams.yaml", root / "teams.yaml")
    (root / "submissions/breast-cancer/hubot/model/predict.py").write_text(CRASH)
    return root


@pytest.mark.docker
def test_own_data_shows_the_container_output_hidden_data_does_not(
    crashing: Path, tmp_path: Path, capsys, python_image
) -> None:
    data = tmp_path / "mine"
    (data / "inputs").mkdir(parents=True)
    sample = crashing / "challenges/breast-cancer/public/sample-inputs/test.csv"
    shutil.copy(sample, data / "inputs/test.csv")
    ids = [line.split(",")[0] for line in sample.read_text().splitlines()[1:]]
    truth = "".join(f"{i},{n % 2},public\n" for n, i in enumerate(ids))
    (data / "truth.csv").write_text("id,malignant,split\n" + truth)
    manifest = str(crashing / HUBOT)
    args = ["evaluate", manifest, "--root", str(crashing), "--no-limits"]
    assert main([*args, "--data", str(data)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1:3] == [
        "status: failed (exited with code 2)",
        "container output (last 40 lines at most; --data is your own data):",
    ]
    # stdout and stderr are two streams: their lines may interleave either way
    assert interleaves(out[3:], ["  reading /input/test.csv"], ["  KeyError: 'mean_radius'"])
    assert main([*args, "--force"]) == 1  # the challenge's (demo-key) hidden data
    out = capsys.readouterr().out
    # Hidden inputs: the exit code could encode one of them, so it is not named (issue 9.9).
    assert out.splitlines()[1:] == ["status: failed (exited with a non-zero code)"]
    assert "mean_radius" not in out
