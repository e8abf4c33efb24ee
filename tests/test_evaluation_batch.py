"""The main job: `challenge-runner run` evaluates what has no current record, then the site."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.cli import main
from runner.evaluation import run_all
from runner.records import load_results

REPO = Path(__file__).resolve().parent.parent


def copy_repo(tmp_path: Path, *, containers: bool) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("challenges", "submissions", "site"):
        shutil.copytree(REPO / name, root / name)
    for name in ("mkdocs.yml", "teams.yaml"):
        shutil.copy(REPO / name, root / name)
    if not containers:
        shutil.rmtree(root / "submissions/breast-cancer/hubot")
    return root


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CHALLENGE_RUNNER_CACHE", str(tmp_path / "cache"))
    return copy_repo(tmp_path, containers=False)


def test_run_evaluates_everything_once(repo: Path) -> None:
    said: list[str] = []
    report = run_all(repo, results_dir=repo / "results", progress=said.append)
    assert report.ok and report.cached == 0
    assert sorted(report.evaluated) == [
        "breast-cancer/demo-maintainer/prior: scored",
        "breast-cancer/mona/mean-radius: scored",
        "breast-cancer/octocat/logreg: scored",
        "diabetes/demo-maintainer/mean: scored",
        "diabetes/ml-lab/knn: scored",
        "diabetes/octocat/ridge: scored",
    ]
    assert said[0] == "[1/6] breast-cancer/demo-maintainer/prior"
    assert "breast-cancer/octocat/logreg: scored roc_auc=0.9983" in said
    again = run_all(repo, results_dir=repo / "results")
    assert (again.evaluated, again.cached) == ([], 6)
    assert len(load_results(repo / "results").results) == 6


def test_run_reports_invalid_files_and_evaluates_the_rest(repo: Path, capsys) -> None:
    (repo / "submissions/diabetes/octocat/broken.yaml").write_text("challenge: diabetes\n")
    code = main(["run", "--root", str(repo), "--no-site", "--challenge", "diabetes"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out == [
        "invalid: submissions/diabetes/octocat/broken.yaml:1:1: $: missing required key "
        "'participant': add it",
        "invalid: submissions/diabetes/octocat/broken.yaml:1:1: $: missing required key 'name': "
        "add it",
        "3 evaluated, 0 unchanged, 2 invalid file(s), 0 error(s)",
    ]
    assert {r.challenge for r in load_results(repo / "results").results} == {"diabetes"}


def test_run_is_not_stopped_by_submission_limits(repo: Path) -> None:
    """Limits are checked when participants submit; re-evaluations by the job ignore them."""
    for _ in range(4):  # diabetes allows 3 a day
        report = run_all(repo, results_dir=repo / "results", only={"diabetes"}, force=True)
        assert report.ok and len(report.evaluated) == 3


@pytest.mark.docker
def test_readme_main_job_on_the_examples(tmp_path: Path, monkeypatch, capsys, python_image) -> None:
    """README's third command on a copy of the repository: records and a site."""
    monkeypatch.setenv("CHALLENGE_RUNNER_CACHE", str(tmp_path / "cache"))
    root = copy_repo(tmp_path, containers=True)
    monkeypatch.chdir(root)
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "7 evaluated, 0 unchanged, 0 invalid file(s), 0 error(s)" in out
    assert (root / "public/index.html").is_file()
    page = root / "public/challenges/breast-cancer/submissions/hubot/small-logreg.html"
    assert "small-logreg" in page.read_text()


def test_one_submissions_failure_never_stops_the_batch(repo: Path, capsys, monkeypatch) -> None:
    """A maintainer-fixable error (wrong data sha256) and a bug each stop only their own
    submission: the others are evaluated, the site is built, and the exit code says 1."""
    yaml = repo / "challenges/diabetes/challenge.yaml"
    yaml.write_text(yaml.read_text().replace("sha256: 186fbbed", "sha256: 086fbbed"))
    from runner.evaluation import local

    real = local.prepare

    def buggy(challenge, submission, data_sha256):
        if submission.participant == "mona":
            raise ZeroDivisionError("division by zero")  # stands for a bug in a step
        return real(challenge, submission, data_sha256)

    monkeypatch.setattr(local, "prepare", buggy)
    said: list[str] = []
    monkeypatch.setattr("runner.cli.run.echo_progress", said.append)
    code = main(["run", "--root", str(repo)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    failed = [line for line in out if line.startswith("failed to evaluate: ")]
    assert failed[0] == (
        "failed to evaluate: submissions/breast-cancer/mona/mean-radius.yaml: unexpected "
        "ZeroDivisionError: division by zero (a bug)"
    )
    assert [f.split(":")[1] for f in failed[1:]] == [
        " submissions/diabetes/demo-maintainer/mean.yaml",
        " submissions/diabetes/ml-lab/knn.yaml",
        " submissions/diabetes/octocat/ridge.yaml",
    ]
    assert all("sha256 mismatch" in f for f in failed[1:])
    assert "2 evaluated, 0 unchanged, 0 invalid file(s), 4 error(s)" in out
    assert any("Traceback" in s and "ZeroDivisionError" in s for s in said)
    assert (repo / "public/index.html").is_file()  # the site is still built
    assert len(load_results(repo / "results").results) == 2
