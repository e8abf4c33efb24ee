"""The evaluate workflow's split jobs: stage -> ingest -> score -> record, through the CLI.

Inputs cross from `stage` to `ingest` encrypted to the ingest key; predictions cross from
`ingest` to `score` encrypted to the challenge's recipient; no artifact holds the truth or
clear predictions. The container run uses the real Docker engine (marked ``docker``).
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from interleave import interleaves

from runner.cli import main
from runner.data import keygen
from runner.data.crypto import AGE_MAGIC
from runner.errors import DataError
from runner.evaluation import Built
from runner.github.stages import stage_inputs, unstage_inputs
from runner.records import load_results

ROOT = Path(__file__).resolve().parents[1]
HUBOT = "submissions/breast-cancer/hubot/small-logreg.yaml"
OCTOCAT = "submissions/breast-cancer/octocat/logreg.yaml"


def test_staged_inputs_round_trip_and_are_encrypted(tmp_path):
    identity, recipient = keygen()
    inputs = tmp_path / "inputs"
    (inputs / "sub").mkdir(parents=True)
    (inputs / "test.csv").write_text("id,x\n1,2\n")
    (inputs / "sub" / "more.txt").write_text("more")
    staged = stage_inputs(inputs, tmp_path / "out", recipient)
    assert staged.read_bytes().startswith(AGE_MAGIC)
    assert b"id,x" not in staged.read_bytes()
    work = tmp_path / "work"
    work.mkdir()
    back = unstage_inputs(staged, work, identity)
    assert (back / "test.csv").read_text() == "id,x\n1,2\n"
    assert (back / "sub" / "more.txt").read_text() == "more"
    other, _ = keygen()
    work2 = tmp_path / "work2"
    work2.mkdir()
    with pytest.raises(DataError, match="encrypted to other recipients"):
        unstage_inputs(staged, work2, other)


def test_staged_archive_with_a_link_is_refused(tmp_path):
    identity, recipient = keygen()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "truth-link").symlink_to("/etc/passwd")
    staged = stage_inputs(inputs, tmp_path / "out", recipient)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(
        DataError, match="staged inputs hold an unexpected member 'inputs/truth-link'"
    ):
        unstage_inputs(staged, work, identity)


def test_score_of_a_predictions_submission_locally(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("BREAST_CANCER_KEY", raising=False)
    plan, records = tmp_path / "plan", tmp_path / "records"
    assert (
        main(["pr", "prepare", "--root", str(ROOT), "--out", str(plan), str(ROOT / OCTOCAT)]) == 0
    )
    item = "breast-cancer/octocat/logreg"
    assert (
        main(
            [
                "pr",
                "score",
                "--root",
                str(ROOT),
                "--plan",
                str(plan),
                "--item",
                item,
                "--out",
                str(records),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(["pr", "report", "--root", str(ROOT), "--plan", str(plan), "--records", str(records)])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(
        "--- breast-cancer: scored\n<!-- challenge-runner challenge=breast-cancer sha="
    )
    assert "Commit (local) · phase " in out
    assert "#### ✅ logreg by octocat — scored" in out
    [result] = load_results(records).results
    assert result.status == "scored" and result.provenance.pull_request is None


def test_missing_ingest_output_is_the_platforms_error(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    plan, records = tmp_path / "plan", tmp_path / "records"
    assert main(["pr", "prepare", "--root", str(ROOT), "--out", str(plan), str(ROOT / HUBOT)]) == 0
    item = "breast-cancer/hubot/small-logreg"
    args = ["--plan", str(plan), "--item", item, "--ingested", str(tmp_path / "none")]
    assert main(["pr", "score", "--root", str(ROOT), *args, "--out", str(records)]) == 0
    [result] = load_results(records).results
    assert result.status == "error"
    assert result.message == "the ingest job produced no output (the platform failed)"


@pytest.mark.docker
def test_container_submission_through_split_jobs(tmp_path, monkeypatch, python_image):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("BREAST_CANCER_KEY", raising=False)  # score uses the demo key
    ingest_identity, ingest_recipient = keygen()
    plan, staged, ingested, records = (
        tmp_path / n for n in ("plan", "staged", "ingested", "records")
    )
    item = "breast-cancer/hubot/small-logreg"
    common = ["--root", str(ROOT), "--plan", str(plan), "--item", item]
    assert main(["pr", "prepare", "--root", str(ROOT), "--out", str(plan), str(ROOT / HUBOT)]) == 0

    monkeypatch.setenv("INGEST_RECIPIENT", ingest_recipient)
    assert main(["pr", "stage", *common, "--out", str(staged)]) == 0
    with pytest.raises(tarfile.ReadError), tarfile.open(staged / "inputs.tar.age"):
        pass  # ciphertext only

    built = tmp_path / "built"  # the build job: no key, no token, the public recipient
    assert main(["pr", "build", *common, "--out", str(built)]) == 0
    monkeypatch.delenv("INGEST_RECIPIENT")
    built_step = Built.read(built / "build.json")
    assert (built_step.status, built_step.message, built_step.detail) == ("ok", "", "")
    assert sorted(p.name for p in built.iterdir()) == ["build.json", "image.tar.age"]
    assert (built / "image.tar.age").read_bytes().startswith(AGE_MAGIC)  # never in clear

    monkeypatch.setenv("INGEST_KEY", ingest_identity)
    args = ["--staged", str(staged), "--built", str(built), "--out", str(ingested)]
    assert main(["pr", "ingest", *common, *args]) == 0
    monkeypatch.delenv("INGEST_KEY")
    summary = json.loads((ingested / "ingest.json").read_text())
    assert summary["status"] == "ok", summary
    assert summary["predictions"] is None  # the file crosses jobs encrypted, never its path
    assert set(summary["timings"]) == {"image", "run"}
    assert sorted(p.name for p in ingested.iterdir()) == ["ingest.json", "predictions.csv.age"]
    assert (ingested / "predictions.csv.age").read_bytes().startswith(AGE_MAGIC)

    assert main(["pr", "score", *common, "--ingested", str(ingested), "--out", str(records)]) == 0
    results = tmp_path / "results"
    assert main(["pr", "record", "--records", str(records), "--results", str(results)]) == 0
    [result] = load_results(results).results
    assert (result.participant, result.status) == ("hubot", "scored")
    assert result.scores["public"]["roc_auc"].value > 0.9
    assert result.provenance.image_digest
    assert set(result.timings) == {"data", "image", "run", "score", "total"}  # ingest's reach CI
    assert all(v == round(v) for v in result.timings.values())  # whole seconds only


@pytest.mark.docker
def test_smoke_run_on_public_sample_inputs(tmp_path, monkeypatch, capsys, python_image):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    plan = tmp_path / "plan"
    assert main(["pr", "prepare", "--root", str(ROOT), "--out", str(plan), str(ROOT / HUBOT)]) == 0
    capsys.readouterr()
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["pr", "smoke", "--root", str(ROOT), "--plan", str(plan)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "breast-cancer/hubot/small-logreg: smoke run produced predictions",
        "breast-cancer/hubot/small-logreg: container output (last 40 lines at most):",
        out[2],
    ]
    assert out[2].startswith("::stop-commands::") and out[3:] == [
        "  (no output)",
        f"::{out[2][17:]}::",
    ]
    assert summary.read_text() == (
        "### Smoke run on the public sample inputs\n\n"
        "**breast\\-cancer\\/hubot\\/small\\-logreg**: produced predictions\n\n"
        "```text\n(no output)\n```\n\n"
    )


CRASH = """\
import sys
print("loading the model", flush=True)
print("::add-mask::nothing to hide\u202e and a ``` fence", flush=True)
print("Traceback (most recent call last):", file=sys.stderr)
print("ValueError: could not convert string to float: 'abc'", file=sys.stderr)
sys.exit(3)
"""


@pytest.mark.docker
def test_a_crashing_container_shows_its_output_in_the_smoke_run(
    tmp_path, monkeypatch, capsys, python_image
):
    """Public sample inputs, no secret: the participant sees why the container crashed,
    escaped (no workflow command obeyed, no invisible character, no fence broken)."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    root = tmp_path / "repo"
    for part in ("challenges", "submissions"):
        shutil.copytree(ROOT / part, root / part)
    shutil.copy(ROOT / "teams.yaml", root / "teams.yaml")
    (root / "submissions/breast-cancer/hubot/model/predict.py").write_text(CRASH)
    plan, summary = tmp_path / "plan", tmp_path / "summary.md"
    assert main(["pr", "prepare", "--root", str(root), "--out", str(plan), str(root / HUBOT)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["pr", "smoke", "--root", str(root), "--plan", str(plan)]) == 1
    out = capsys.readouterr().out.splitlines()
    token = out[2].removeprefix("::stop-commands::")
    assert out[:3] + out[-1:] == [
        "::error title=smoke run::breast-cancer/hubot/small-logreg: failed: exited with code 3",
        "breast-cancer/hubot/small-logreg: container output (last 40 lines at most):",
        f"::stop-commands::{token}",
        f"::{token}::",
    ]
    # stdout and stderr are two streams: their lines may interleave either way
    stdout = ["loading the model", "::add-mask::nothing to hide and a ``` fence"]
    stderr = [
        "Traceback (most recent call last):",
        "ValueError: could not convert string to float: 'abc'",
    ]
    indented = [[f"  {line}" for line in stream] for stream in (stdout, stderr)]
    assert interleaves(out[3:-1], *indented)
    assert len(token) == 32
    block = summary.read_text().split("\n\n", 2)[2]
    assert block.startswith("````text\n") and block.endswith("\n````\n\n")
    assert interleaves(block.split("\n")[1:-3], stdout, stderr)


def test_score_of_a_team_submission_locally(tmp_path, monkeypatch):
    """The jobs after prepare load team manifests against the base branch's teams.yaml."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("DIABETES_KEY", raising=False)
    plan, records = tmp_path / "plan", tmp_path / "records"
    knn = ROOT / "submissions/diabetes/ml-lab/knn.yaml"
    assert main(["pr", "prepare", "--root", str(ROOT), "--out", str(plan), str(knn)]) == 0
    args = ["--plan", str(plan), "--item", "diabetes/mona/knn", "--out", str(records)]
    assert main(["pr", "score", "--root", str(ROOT), *args]) == 0
    [result] = load_results(records).results
    assert (result.status, result.participant, result.team) == ("scored", "mona", "ml-lab")


@pytest.mark.docker
def test_a_failed_build_is_the_participants_fault_and_nothing_runs(
    tmp_path, monkeypatch, python_image
):
    """The build job reports the failure; the ingest job passes it on without running."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    root = tmp_path / "repo"
    for part in ("challenges", "submissions"):
        shutil.copytree(ROOT / part, root / part)
    shutil.copy(ROOT / "teams.yaml", root / "teams.yaml")
    dockerfile = root / "submissions/breast-cancer/hubot/model/Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN exit 7\n")
    plan, built, staged, ingested = (tmp_path / n for n in ("plan", "built", "staged", "ingested"))
    item = "breast-cancer/hubot/small-logreg"
    common = ["--root", str(root), "--plan", str(plan), "--item", item]
    manifest = root / "submissions/breast-cancer/hubot/small-logreg.yaml"
    assert main(["pr", "prepare", "--root", str(root), "--out", str(plan), str(manifest)]) == 0
    identity, recipient = keygen()
    monkeypatch.setenv("INGEST_RECIPIENT", recipient)
    assert main(["pr", "build", *common, "--out", str(built)]) == 0
    summary = json.loads((built / "build.json").read_text())
    assert summary["status"] == "failed"
    assert summary["message"].startswith("the Dockerfile failed to build (")
    assert not (built / "image.tar.age").exists()
    assert main(["pr", "stage", *common, "--out", str(staged)]) == 0
    monkeypatch.setenv("INGEST_KEY", identity)
    args = ["--staged", str(staged), "--built", str(built), "--out", str(ingested)]
    assert main(["pr", "ingest", *common, *args]) == 0
    ingest_summary = json.loads((ingested / "ingest.json").read_text())
    assert (ingest_summary["status"], ingest_summary["message"]) == ("failed", summary["message"])
