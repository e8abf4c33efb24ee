"""`challenge-runner plan` (the Actions matrix) and `pr` commands run locally."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("BREAST_CANCER_KEY", raising=False)
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "challenges" / "breast-cancer", root / "challenges" / "breast-cancer")
    for who in ("octocat", "mona"):
        shutil.copytree(
            ROOT / "submissions/breast-cancer" / who, root / "submissions/breast-cancer" / who
        )
    git = ["git", "-C", str(root)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "base"],
        check=True,
    )
    return root


def plan_entries(root: Path, capsys, *extra: str) -> list[tuple[str, str]]:
    capsys.readouterr()
    assert main(["plan", "--root", str(root), *extra]) == 0
    data = json.loads(capsys.readouterr().out)
    return [(e["entrant"], e["name"]) for e in data["include"]]


def test_plan_lists_submissions_without_a_current_record(repo, capsys):
    assert plan_entries(repo, capsys) == [("mona", "mean-radius"), ("octocat", "logreg")]
    work = repo.parent / "work"
    manifest = repo / "submissions/breast-cancer/octocat/logreg.yaml"
    assert main(["pr", "prepare", "--root", str(repo), "--out", str(work), str(manifest)]) == 0
    args = ["--plan", str(work), "--item", "breast-cancer/octocat/logreg"]
    assert main(["pr", "score", "--root", str(repo), *args, "--out", str(repo / "results")]) == 0
    assert plan_entries(repo, capsys) == [("mona", "mean-radius")]
    # A changed predictions file makes its record stale (as `run` sees it)...
    csv = repo / "submissions/breast-cancer/octocat/logreg.csv"
    original = csv.read_text()
    csv.write_text(original.replace("bc-0001,0.999503", "bc-0001,0.5"))
    assert plan_entries(repo, capsys) == [("mona", "mean-radius"), ("octocat", "logreg")]
    csv.write_text(original)
    assert plan_entries(repo, capsys) == [("mona", "mean-radius")]
    # ...and so does a changed manifest.
    manifest.write_text(manifest.read_text().replace("(C=0.5)", "(C=0.25)"))
    assert plan_entries(repo, capsys) == [("mona", "mean-radius"), ("octocat", "logreg")]


def test_plan_changed_since_uses_git_diff(repo, capsys):
    assert plan_entries(repo, capsys, "--changed-since", "HEAD") == []
    csv = repo / "submissions/breast-cancer/mona/mean-radius.csv"
    csv.write_text(csv.read_text() + "\n")
    assert plan_entries(repo, capsys, "--changed-since", "HEAD") == [("mona", "mean-radius")]
    assert main(["plan", "--root", str(repo), "--changed-since", "no-such-ref"]) == 1
    assert "--changed-since no-such-ref: git diff failed" in capsys.readouterr().err


def test_pr_report_prints_locally_instead_of_posting(repo, capsys, tmp_path):
    manifest = repo / "submissions/breast-cancer/mona/mean-radius.yaml"
    bad = manifest.read_text().replace("participant: mona", "participant: someone-else")
    manifest.write_text(bad)
    work = tmp_path / "work"
    assert main(["pr", "prepare", "--root", str(repo), "--out", str(work), str(manifest)]) == 0
    assert (
        main(["pr", "prepare", "--root", str(repo), "--out", str(work), "--check", str(manifest)])
        == 1
    )
    out = capsys.readouterr().out
    assert "::error file=submissions/breast-cancer/mona/mean-radius.yaml,line=" in out
    assert main(["pr", "report", "--root", str(repo), "--plan", str(work)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "--- breast-cancer: invalid\n<!-- challenge-runner challenge=breast-cancer"
    )
    assert "participant \\'someone\\-else\\' does not match the folder \\'mona\\'" in out


def test_pr_prepare_needs_manifests_outside_actions(repo, capsys):
    assert main(["pr", "prepare", "--root", str(repo)]) == 1
    assert "outside GitHub Actions, name the manifests to prepare" in capsys.readouterr().err


def test_plan_lists_what_it_skips_on_stderr(repo, capsys):
    (repo / "submissions/breast-cancer/mona/broken.yaml").write_text("name: [\n")
    assert main(["plan", "--root", str(repo)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["include"]  # stdout stays the matrix
    assert captured.err == (
        "skipped: submissions/breast-cancer/mona/broken.yaml:2:1: not valid YAML: "
        "did not find expected node content\n"
    )
