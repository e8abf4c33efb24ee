"""One evaluation end to end on the example challenges (predictions submissions).

Container submissions run in tests/test_evaluation_docker.py (Docker-marked).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.cli import main
from runner.data import decrypt_text
from runner.evaluation import LimitReached, Options, evaluate
from runner.loader import load_repo
from runner.records import load_results
from runner.reveal import open_private

REPO = Path(__file__).resolve().parent.parent
INVALID = Path(__file__).parent / "examples" / "invalid-submission"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for part in ("challenges", "submissions"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")
    return root


def run(root: Path, challenge: str, who: str, name: str, **kw) -> object:
    loaded = load_repo(root)
    assert loaded.problems == ()
    sub = next(
        s for s in loaded.submissions if (s.challenge, s.entrant, s.name) == (challenge, who, name)
    )
    kw.setdefault("results_dir", root / "results")
    options = Options(cache_dir=root / ".cache", now=kw.pop("now", NOW), **kw)
    return evaluate(loaded.challenges[challenge], sub, options)


def test_predictions_submission_is_scored_and_recorded(repo: Path) -> None:
    done = run(repo, "breast-cancer", "octocat", "logreg")
    result = done.result
    assert (result.status, result.phase, result.message) == ("scored", "open", "scored")
    public = result.scores["public"]
    assert list(public) == ["roc_auc", "log_loss", "accuracy"]
    assert 0.99 < public["roc_auc"].value <= 1.0
    assert public["roc_auc"].ci_low <= public["roc_auc"].value <= public["roc_auc"].ci_high
    assert (
        done.path == repo / "results/breast-cancer/octocat/logreg" / f"{result.evaluation_id}.json"
    )
    record = json.loads(done.path.read_text())
    assert (
        record["provenance"]["data_sha256"]
        == load_repo(repo).challenges["breast-cancer"].hidden.sha256
    )
    assert record["provenance"]["predictions_sha256"] is not None


def test_the_predictions_file_is_hashed_once_and_the_record_holds_its_sha256(
    repo: Path, monkeypatch
) -> None:
    """prepare hashes the committed file for the cache key; score reuses that digest."""
    import hashlib

    import runner.data

    hashed: list[Path] = []
    real = runner.data.file_sha256
    monkeypatch.setattr(runner.data, "file_sha256", lambda p: hashed.append(p) or real(p))
    result = run(repo, "breast-cancer", "octocat", "logreg").result
    path = repo / "submissions/breast-cancer/octocat/logreg.csv"
    assert hashed.count(path) == 1
    assert result.provenance.predictions_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_private_scores_are_sealed_until_the_reveal(repo: Path) -> None:
    done = run(repo, "breast-cancer", "octocat", "logreg")
    assert "private" not in done.result.scores
    identity = (repo / "challenges/breast-cancer/demo-key.txt").read_text()
    private = open_private(done.result.private, identity)
    assert set(private) == {"roc_auc", "log_loss", "accuracy"}
    text = done.path.read_text()
    for score in private.values():  # no private number appears in clear anywhere in the record
        assert repr(score.value) not in text and f"{score.value:.6f}"[:-1] not in text


def test_an_identical_evaluation_is_not_run_twice(repo: Path) -> None:
    first = run(repo, "diabetes", "ml-lab", "knn")
    again = run(repo, "diabetes", "ml-lab", "knn")
    assert again.cached and again.path is None
    assert again.result.evaluation_id == first.result.evaluation_id
    forced = run(repo, "diabetes", "ml-lab", "knn", force=True)
    assert not forced.cached and forced.result.evaluation_id != first.result.evaluation_id
    # A changed predictions file makes the record stale.
    csv = repo / "submissions/diabetes/ml-lab/knn.csv"
    lines = csv.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",100.5"
    csv.write_text("\n".join(lines) + "\n")
    changed = run(repo, "diabetes", "ml-lab", "knn")
    assert not changed.cached


def test_team_submission_records_the_team(repo: Path) -> None:
    result = run(repo, "diabetes", "ml-lab", "knn").result
    assert (result.participant, result.team, result.entrant) == ("mona", "ml-lab", "ml-lab")
    assert set(result.scores["public"]) == {"rmse", "mae", "r2"}


def test_invalid_predictions_give_an_invalid_record_with_a_safe_message(repo: Path) -> None:
    """Behind `validate` (which checks against the public ids), scoring checks the hidden
    truth's ids: here the public folder lists no ids, so only scoring sees the gap."""
    shutil.copytree(INVALID / "breast-cancer/eve", repo / "submissions/breast-cancer/eve")
    for name in ("sample_submission.csv", "test.csv"):
        (repo / "challenges/breast-cancer/public" / name).unlink()
    csv_path = repo / "submissions/breast-cancer/eve/overconfident.csv"
    rows = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join([rows[0], *(r.split(",")[0] + ",0.5" for r in rows[1:])]) + "\n")
    result = run(repo, "breast-cancer", "eve", "overconfident").result
    assert result.status == "invalid"
    assert result.scores == {}
    assert result.message == (
        "2 test id(s) have no prediction, e.g. 'bc-0020', 'bc-0035'; "
        "write one row for every test id"
    )
    truth = (repo / ".cache").rglob("truth.csv")
    for path in truth:  # the message names ids, never truth values
        for line in path.read_text().splitlines()[1:4]:
            assert line not in result.message


def test_limits_are_checked_before_running(repo: Path) -> None:
    for _ in range(3):  # diabetes allows 3 per UTC day
        run(repo, "diabetes", "octocat", "ridge", force=True)
    with pytest.raises(LimitReached) as caught:
        run(repo, "diabetes", "octocat", "ridge", force=True)
    assert "next at 2026-11-23 00:00 UTC" in caught.value.message
    assert len(load_results(repo / "results", "diabetes").results) == 3
    tomorrow = datetime(2026, 11, 23, 0, 0, 1, tzinfo=UTC)
    assert (
        run(repo, "diabetes", "octocat", "ridge", force=True, now=tomorrow).result.status
        == "scored"
    )


def test_late_submission_is_recorded_outside_every_phase(repo: Path) -> None:
    late = datetime(2027, 7, 1, tzinfo=UTC)
    result = run(repo, "diabetes", "octocat", "ridge", now=late).result
    assert (result.status, result.phase) == ("scored", None)


def test_maintainer_detail_is_never_stored_in_clear(repo: Path) -> None:
    from dataclasses import replace

    from runner.evaluation.score import _seal_detail

    challenge = load_repo(repo).challenges["breast-cancer"]
    secret = "container said: truth row bc-0001 is 1"
    sealed = _seal_detail(challenge, secret)
    assert sealed.startswith("-----BEGIN AGE ENCRYPTED FILE-----") and secret not in sealed
    identity = (repo / "challenges/breast-cancer/demo-key.txt").read_text()
    assert decrypt_text(sealed, identity) == secret
    no_key = replace(challenge, hidden=replace(challenge.hidden, recipient=None))
    assert _seal_detail(no_key, secret) is None  # dropped rather than stored in clear


def test_evaluate_cli(repo: Path, capsys) -> None:
    manifest = repo / "submissions/diabetes/octocat/ridge.yaml"
    assert main(["evaluate", str(manifest), "--root", str(repo)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("diabetes/octocat/ridge: recorded in results/diabetes/octocat/ridge/")
    assert "status: scored" in out and "public rmse:" in out
    assert main(["evaluate", str(manifest), "--root", str(repo), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "scored"
    shutil.copytree(INVALID / "breast-cancer/eve", repo / "submissions/breast-cancer/eve")
    bad = repo / "submissions/breast-cancer/eve/overconfident.yaml"
    assert main(["evaluate", str(bad), "--root", str(repo)]) == 1  # refused before running
    assert capsys.readouterr().err.startswith(
        "error: 2 problem(s):\n  submissions/breast-cancer/eve/overconfident.csv:2:1: column "
        "'malignant' must hold probabilities between 0 and 1: line 2 (id 'bc-0001') has 1.49926"
    )
    assert load_results(repo / "results", "breast-cancer").results == ()


def test_evaluate_cli_with_a_missing_key_variable(repo: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SOME_KEY", raising=False)
    manifest = repo / "submissions/diabetes/octocat/ridge.yaml"
    assert main(["evaluate", str(manifest), "--root", str(repo), "--key-env", "SOME_KEY"]) == 1
    assert capsys.readouterr().err == (
        "error: --key-env SOME_KEY: that environment variable is not set\n"
    )


def test_a_stale_record_is_superseded_by_its_reevaluation(repo: Path) -> None:
    """After a change to the challenge, `run` re-evaluates: the new record takes the old
    one's place in its phase (even once the phase is over) and on the board."""
    from runner.leaderboard import build_board
    from runner.limits import check_limits
    from runner.records import current_results

    first = run(repo, "diabetes", "octocat", "ridge").result
    spec = repo / "challenges/diabetes/challenge.yaml"
    spec.write_text(spec.read_text().replace("ten measurements", "ten baseline measurements"))
    after_the_phase = datetime(2027, 7, 1, tzinfo=UTC)
    again = run(repo, "diabetes", "octocat", "ridge", now=after_the_phase).result
    assert again.cache_key != first.cache_key
    assert (again.created_at, again.phase, again.supersedes) == (
        first.created_at,
        "main",
        first.evaluation_id,
    )
    assert again.evaluation_id.startswith("20270701T")  # the id keeps when it really ran
    current = current_results(load_results(repo / "results", "diabetes").results)
    assert [r.evaluation_id for r in current] == [again.evaluation_id]
    challenge = load_repo(repo).challenges["diabetes"]
    (entry,) = build_board(challenge, current, challenge.phase("main")).entries
    assert entry.result.evaluation_id == again.evaluation_id
    assert check_limits(challenge, challenge.phase("main"), current, "octocat", NOW).used_today == 1
    # A different artifact under the same name is a new submission, not a re-evaluation.
    csv = repo / "submissions/diabetes/octocat/ridge.csv"
    lines = csv.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",123.0"
    csv.write_text("\n".join(lines) + "\n")
    new = run(repo, "diabetes", "octocat", "ridge").result
    assert (new.supersedes, new.created_at) == (None, NOW)


def test_the_same_manifest_evaluated_twice_at_once_gives_one_record(repo: Path) -> None:
    """An evaluation waits for the lock of its cache key, then re-reads the records: the
    record another evaluator wrote meanwhile is served, not a second one written."""
    import threading

    from runner.evaluation import evaluation_lock
    from runner.records import write_result

    elsewhere = run(repo, "breast-cancer", "octocat", "logreg", results_dir=repo / "other")
    key = elsewhere.result.cache_key
    got: list = []
    second = threading.Thread(
        target=lambda: got.append(run(repo, "breast-cancer", "octocat", "logreg"))
    )
    with evaluation_lock(repo / "results", key):  # the first evaluator, still running
        second.start()
        second.join(timeout=3)
        assert second.is_alive(), "the second evaluation did not wait for the lock"
        write_result(repo / "results", elsewhere.result)  # the first one's record lands
    second.join(timeout=60)
    [done] = got
    assert done.cached and done.result.evaluation_id == elsewhere.result.evaluation_id
    assert len(load_results(repo / "results").results) == 1


def test_records_hold_whole_seconds_only(repo: Path) -> None:
    """A container-measured time can carry what it read; records publish it coarsely."""
    from runner.evaluation.record import coarse_timings

    assert coarse_timings({"data": 0.4, "image": None, "run": 2.51, "total": 9.0}) == {
        "data": 0.0,
        "run": 3.0,
        "total": 3.0,
    }
    timings = run(repo, "breast-cancer", "octocat", "logreg").result.timings
    assert set(timings) == {"data", "score", "total"}
    assert all(value == int(value) for value in timings.values())
