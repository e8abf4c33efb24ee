"""The main job: `challenge-runner run` evaluates what has no current record, then the site."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import cli, main
from runner.evaluation import run_all
from runner.records import current_results, load_results

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
    assert said[0] == "breast-cancer: obtaining hidden data"  # once per challenge, first
    assert said.index("[1/6] breast-cancer/demo-maintainer/prior") > said.index(
        "diabetes: obtaining hidden data"
    )
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
        "3 evaluated, 0 unchanged, 0 over the limit, 2 invalid file(s), 0 error(s)",
    ]
    assert {r.challenge for r in load_results(repo / "results").results} == {"diabetes"}


def one_a_day_with_four_by_octocat(repo: Path) -> None:
    """diabetes allows 1 evaluation a day; octocat adds ridge2..ridge4 beside ridge."""
    yaml = repo / "challenges/diabetes/challenge.yaml"
    yaml.write_text(yaml.read_text().replace("per_day: 3", "per_day: 1"))
    folder = repo / "submissions/diabetes/octocat"
    for n in (2, 3, 4):
        text = (folder / "ridge.yaml").read_text().replace("ridge", f"ridge{n}")
        (folder / f"ridge{n}.yaml").write_text(text)
        shutil.copy(folder / "ridge.csv", folder / f"ridge{n}.csv")


def run_lines(repo: Path, capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["run", "--root", str(repo), "--no-site", "--challenge", "diabetes", *args])
    return code, capsys.readouterr().out.splitlines()


OVER = "over the limit, not evaluated and not counted: submissions/diabetes/octocat/"
FULL = "1 of 1 evaluations used today (UTC); next at "


def test_run_keeps_the_limits_counting_its_own_evaluations(repo: Path, capsys) -> None:
    """As in CI: each new evaluation counts those of the batch before it; the excess is not
    evaluated, not counted and not an error, and a later run takes it when the quota allows."""
    one_a_day_with_four_by_octocat(repo)
    code, out = run_lines(repo, capsys)
    assert code == 0
    assert [line.split(FULL)[0] for line in out] == [
        f"{OVER}ridge2.yaml: ",
        f"{OVER}ridge3.yaml: ",
        f"{OVER}ridge4.yaml: ",
        "3 evaluated, 0 unchanged, 3 over the limit, 0 invalid file(s), 0 error(s)",
    ]
    records = load_results(repo / "results", "diabetes").results
    assert sorted(r.submission for r in records) == ["knn", "mean", "ridge"]
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = run_all(repo, results_dir=repo / "results", only={"diabetes"}, now=tomorrow)
    assert later.evaluated == ["diabetes/octocat/ridge2: scored"] and later.cached == 3
    assert [o.split(": ")[0] for o in later.over_limit] == [
        "submissions/diabetes/octocat/ridge3.yaml",
        "submissions/diabetes/octocat/ridge4.yaml",
    ]


def test_run_never_says_more_used_than_the_limit(repo: Path, capsys) -> None:
    """Records made with --no-limits exceed the limit: the next line says so plainly."""
    one_a_day_with_four_by_octocat(repo)
    code, out = run_lines(repo, capsys, "--no-limits")
    assert code == 0 and out == [
        "6 evaluated, 0 unchanged, 0 over the limit, 0 invalid file(s), 0 error(s)"
    ]
    code, out = run_lines(repo, capsys, "--force")
    assert code == 0
    assert out[2].startswith(
        f"{OVER}ridge.yaml: 4 evaluations used today (UTC), more than the limit of 1; next at "
    )
    assert out[-1] == "0 evaluated, 0 unchanged, 6 over the limit, 0 invalid file(s), 0 error(s)"
    assert not [line for line in out if re.search(r"\b([2-9]|\d\d+) of 1 evaluations", line)]


def test_run_reevaluates_a_changed_challenge_within_no_quota(repo: Path, capsys) -> None:
    """Re-evaluations after a change to the challenge keep their original's place in the
    quota: a maintainer's change is evaluated whole even when everyone is at the limit."""
    one_a_day_with_four_by_octocat(repo)
    run_lines(repo, capsys)
    yaml = repo / "challenges/diabetes/challenge.yaml"
    yaml.write_text(yaml.read_text().replace("bootstrap: 500", "bootstrap: 400"))
    code, out = run_lines(repo, capsys)
    assert code == 0
    assert out[-1] == "3 evaluated, 0 unchanged, 3 over the limit, 0 invalid file(s), 0 error(s)"
    current = current_results(load_results(repo / "results", "diabetes").results)
    assert len(current) == 3 and all(r.supersedes for r in current)


def test_run_says_a_missing_key_once_per_challenge_naming_what_run_accepts(
    repo: Path, capsys
) -> None:
    """No key and no demo key: one line for the challenge, naming its key variable; run has
    no --data option, so the message does not suggest one."""
    yaml = repo / "challenges/diabetes/challenge.yaml"
    lines = yaml.read_text().splitlines()
    yaml.write_text("\n".join(ln for ln in lines if "demo_key_file" not in ln) + "\n")
    code = main(["run", "--root", str(repo), "--no-site"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    failed = [line for line in out if line.startswith("failed to evaluate")]
    assert failed == [
        "failed to evaluate: challenge diabetes (3 submission(s) not evaluated): "
        "challenges/diabetes/hidden.tar.age: the hidden data is encrypted and the environment "
        'variable DIABETES_KEY is not set: export DIABETES_KEY="$(cat KEY_FILE)" with the age '
        "identity (in CI, a repository secret of that name)"
    ]
    assert out[-1] == "3 evaluated, 0 unchanged, 0 over the limit, 0 invalid file(s), 1 error(s)"
    assert not any("--data" in line for line in out)
    help_text = CliRunner().invoke(cli, ["run", "--help"]).output
    assert "--data" not in help_text and "key_env" in help_text


@pytest.mark.docker
def test_readme_main_job_on_the_examples(tmp_path: Path, monkeypatch, capsys, python_image) -> None:
    """README's third command on a copy of the repository: records and a site."""
    monkeypatch.setenv("CHALLENGE_RUNNER_CACHE", str(tmp_path / "cache"))
    root = copy_repo(tmp_path, containers=True)
    monkeypatch.chdir(root)
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "7 evaluated, 0 unchanged, 0 over the limit, 0 invalid file(s), 0 error(s)" in out
    assert (root / "public/index.html").is_file()
    page = root / "public/challenges/breast-cancer/submissions/hubot/small-logreg.html"
    assert "small-logreg" in page.read_text()


def test_one_submissions_failure_never_stops_the_batch(repo: Path, capsys, monkeypatch) -> None:
    """A maintainer-fixable error (wrong data sha256) stops only its own challenge and a bug
    only its own submission: the others are evaluated, the site is built, and the exit code
    says 1."""
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
    assert failed[0].startswith(  # the data of a whole challenge: said once, for the challenge
        "failed to evaluate: challenge diabetes (3 submission(s) not evaluated): "
        "challenges/diabetes/hidden.tar.age: sha256 mismatch: challenge.yaml says 086fbbed"
    )
    assert failed[1:] == [
        "failed to evaluate: submissions/breast-cancer/mona/mean-radius.yaml: unexpected "
        "ZeroDivisionError: division by zero (a bug)"
    ]
    assert "2 evaluated, 0 unchanged, 0 over the limit, 0 invalid file(s), 2 error(s)" in out
    assert any("Traceback" in s and "ZeroDivisionError" in s for s in said)
    assert (repo / "public/index.html").is_file()  # the site is still built
    assert len(load_results(repo / "results").results) == 2
