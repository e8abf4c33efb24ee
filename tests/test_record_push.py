"""`pr record --push` against a real bare repository: concurrent recorders lose nothing,
limits are re-checked against the fetched store, refusals stop at once (issues 15, 9.1,
9.8, 13), and `pr report --recorded` says "not recorded" unless the record landed."""

# ruff: noqa: F811  (the `world` fixture of test_github_pr_flow is imported, then requested)

from __future__ import annotations

import functools
import http.server
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from record_store import (
    BRANCH,
    CHALLENGE,
    git,
    make_recorder,
    make_store,
    run_all,
    tree_files,
    verify,
)
from records_factory import result
from test_github_pr_flow import ITEM, MANIFEST, PREDICTIONS, bot_comments, world  # noqa: F401
from test_github_pr_flow import push as pr_push

from runner.cli import main
from runner.errors import RecordError
from runner.github import git as gitrun
from runner.github import push
from runner.github.escape import md_text
from runner.github.push import Backoff, PushFailed, Target, push_records
from runner.github.record import (
    LANDED,
    NOT_RECORDED,
    OVER_LIMIT,
    Outcome,
    read_candidates,
    read_outcome,
)
from runner.loader import load_challenge
from runner.records import write_result

# Scaled to a local push (~0.1 s); the deadline is generous because the machine is shared.
FAST = Backoff(base=0.05, cap=2.0, timeout=240.0)
HOOK = '#!/bin/sh\necho "GH006: Protected branch update failed for refs/heads/main." >&2\nexit 1\n'


@functools.cache
def challenges() -> dict:
    """Loaded once, before the recorders fork (each record job loads its own in CI)."""
    return {"breast-cancer": load_challenge(CHALLENGE)}


def land(rec, bare: Path, backoff: Backoff = FAST) -> Outcome:
    candidates = read_candidates(rec.records, "results")
    target = Target(rec.clone, "results", str(bare), BRANCH)
    return push_records(target, candidates, challenges(), backoff)


def land_worker(rec, bare: Path) -> dict:
    try:
        outcome = land(rec, bare)
    except PushFailed as err:
        return {"name": rec.name, "error": str(err), "attempts": err.outcome.attempts}
    return {"name": rec.name, "attempts": outcome.attempts, "fates": outcome.to_json()}


def record_cli(rec, bare: Path, tmp: Path, *extra: str) -> tuple[int, Outcome]:
    outcome = tmp / f"outcome-{rec.name}.json"
    args = ["pr", "record", "--root", str(rec.clone), "--records", str(rec.records)]
    args += ["--results", str(rec.clone / "results"), "--push", BRANCH, "--remote", str(bare)]
    code = main([*args, "--outcome", str(outcome), *extra])
    return code, read_outcome(outcome)


# ---------------------------------------------------------------- under load


def test_fifty_concurrent_recorders_land_every_record_exactly_once(tmp_path):
    store = make_store(tmp_path)
    recorders = [
        make_recorder(store, tmp_path, f"user{i:02d}", count=2 if i % 5 == 0 else 1)
        for i in range(50)
    ]
    challenges()
    got, wall = run_all(land_worker, recorders, store.bare)

    assert [g for g in got if "error" in g] == []
    tally = verify(store, recorders)
    assert (tally.lost, tally.duplicated, tally.other_changes) == (0, 0, 0)
    assert tally.commits <= 50  # jobs that met contention folded others' records in
    assert git(store.bare, "merge-base", "--is-ancestor", store.base, BRANCH) == ""
    attempts = sum(g["attempts"] for g in got)
    print(f"N=50 lost=0 duplicated=0 wall={wall:.1f}s attempts={attempts}")


def test_racing_pull_requests_cannot_both_pass_the_daily_limit(tmp_path):
    store = make_store(tmp_path)
    seed = make_recorder(store, tmp_path, "alice", count=4)  # 4 of 5 used on 2026-12-05
    land(seed, store.bare)
    first = make_recorder(store, tmp_path, "alice", job="-pr1")
    second = make_recorder(store, tmp_path, "alice", job="-pr2")

    got, _ = run_all(land_worker, [first, second], store.bare)
    assert [g for g in got if "error" in g] == []

    fates = [f for g in got for f in json.loads(g["fates"])["records"]]
    assert sorted(f["state"] for f in fates) == [LANDED, OVER_LIMIT]
    [over] = [f for f in fates if f["state"] == OVER_LIMIT]
    assert over["message"] == (
        "over the limit, not recorded: 5 of 5 evaluations used today (UTC); "
        "next at 2026-12-06 00:00 UTC"
    )
    on_branch = tree_files(store.bare, BRANCH)
    assert sum(1 for p in on_branch if p.startswith("results/breast-cancer/alice/")) == 5
    assert over["path"] not in on_branch


def test_a_push_that_loses_the_race_re_checks_limits_on_the_new_store(tmp_path, monkeypatch):
    """Deterministic interleaving: the second PR lands between our fetch and our push."""
    store = make_store(tmp_path)
    land(make_recorder(store, tmp_path, "alice", count=4), store.bare)
    ours = make_recorder(store, tmp_path, "alice", job="-ours")
    theirs = make_recorder(store, tmp_path, "alice", job="-theirs")
    real_push, raced = push._push, []

    def push_after_theirs(target, commit):
        if not raced:
            raced.append(None)  # their own push below goes straight through
            raced[0] = land(theirs, store.bare)
        return real_push(target, commit)

    monkeypatch.setattr(push, "_push", push_after_theirs)
    outcome = land(ours, store.bare)

    assert [f.state for f in raced[0].records] == [LANDED]
    assert [f.state for f in outcome.records] == [OVER_LIMIT]
    assert outcome.attempts == 2  # rejected as non-fast-forward once, then re-checked
    assert outcome.commit == git(store.bare, "rev-parse", BRANCH).strip()


# ---------------------------------------------------------------- immutability


def test_a_record_already_on_the_branch_is_not_a_conflict(tmp_path):
    store = make_store(tmp_path)
    rec = make_recorder(store, tmp_path, "bob", count=2)
    first = land(rec, store.bare)
    again = land(rec, store.bare)
    assert [f.state for f in again.records] == [LANDED, LANDED]
    assert again.commit == first.commit  # nothing new committed
    assert verify(store, [rec]).commits == 1


def test_a_different_file_under_a_stored_path_is_an_error(tmp_path):
    store = make_store(tmp_path)
    rec = make_recorder(store, tmp_path, "bob")
    land(rec, store.bare)
    [path] = rec.records.rglob("*.json")
    path.write_text(path.read_text().replace('"message": "scored"', '"message": "changed"'))
    before = git(store.bare, "rev-parse", BRANCH)
    with pytest.raises(RecordError, match="a different record is already stored under this"):
        land(rec, store.bare)
    assert git(store.bare, "rev-parse", BRANCH) == before


# ---------------------------------------------------------------- refusals stop at once


def test_protected_branch_stops_at_once_with_a_clear_message(tmp_path, capsys):
    store = make_store(tmp_path)
    hook = store.bare / "hooks" / "pre-receive"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    rec = make_recorder(store, tmp_path, "carol")
    start = time.monotonic()
    code, outcome = record_cli(rec, store.bare, tmp_path, "--timeout", "300")
    assert time.monotonic() - start < 60  # not the 300 s a retry loop would spend
    assert code == 1
    err = capsys.readouterr().err
    assert (
        f"error: the remote refused the push to branch main of {store.bare}: a protected "
        "branch or a push rule keeps the workflow out. Let the record job's token push to the "
        "branch (see hosting-github.md, Branch protection) and re-run the record job. The new "
        "records were not recorded."
    ) in err
    assert "GH006: Protected branch update failed" in err  # git's own words, for maintainers
    assert "[remote rejected] (pre-receive hook declined)" in err
    assert outcome.attempts == 1 and outcome.commit is None
    assert outcome.error == "the results store refused the records"
    assert [f.state for f in outcome.records] == [NOT_RECORDED]
    assert git(store.bare, "rev-parse", BRANCH).strip() == store.base


class _Unauthorised(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # git's smart-HTTP discovery: every request needs credentials
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_authentication_failure_stops_at_once_and_hides_the_token(tmp_path, capsys):
    store = make_store(tmp_path)
    rec = make_recorder(store, tmp_path, "dave")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorised)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    remote = f"http://x-access-token:s3cr3t-token@127.0.0.1:{server.server_port}/org/store.git"
    try:
        outcome_file = tmp_path / "outcome.json"
        args = ["pr", "record", "--root", str(rec.clone), "--records", str(rec.records)]
        args += ["--results", str(rec.clone / "results"), "--push", BRANCH, "--remote", remote]
        code = main([*args, "--outcome", str(outcome_file)])
    finally:
        server.shutdown()
    err = capsys.readouterr().err
    assert code == 1
    shown = f"http://***@127.0.0.1:{server.server_port}/org/store.git"
    assert f"error: authentication to branch main of {shown} failed: give the record" in err
    assert "s3cr3t-token" not in err and "s3cr3t-token" not in outcome_file.read_text()
    outcome = read_outcome(outcome_file)
    assert (outcome.attempts, outcome.error) == (1, "the record job could not sign in to the "
                                                 "results store")  # fmt: skip


def test_missing_remote_stops_at_once(tmp_path, capsys):
    store = make_store(tmp_path)
    rec = make_recorder(store, tmp_path, "erin")
    code, outcome = record_cli(rec, tmp_path / "nowhere.git", tmp_path)
    assert code == 1
    assert f"error: branch main of {tmp_path / 'nowhere.git'} does not exist" in (
        capsys.readouterr().err
    )
    assert outcome.attempts == 1 and outcome.error == "the results store was not found"


# ---------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    ("output", "pushed", "kind"),
    [
        ("!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone", True, gitrun.RETRY),
        ("!\tabc:refs/heads/main\t[rejected] (non-fast-forward)", True, gitrun.RETRY),
        (
            "!\tabc:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': "
            "is at 1 but expected 2)",
            True,
            gitrun.RETRY,
        ),
        (  # two concurrent pushes of the same pack to a bare repository
            "!\tabc:refs/heads/main\t[remote rejected] (unable to migrate objects to permanent "
            "storage)\nDone\nerror: files './objects/tmp_objdir-incoming-S/pack/pack-07.keep' "
            "and './objects/pack/pack-07.keep' differ in contents",
            True,
            gitrun.RETRY,
        ),
        ("!\tabc:refs/heads/main\t[remote rejected] (Internal Server Error)", True, "retry"),
        ("!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)", True, "refused"),
        ("!\tabc:refs/heads/main\t[remote rejected] (branch is checked out)", True, "refused"),
        ("!\tabc:refs/heads/main\t[remote rejected] (n/a (unpacker error))", True, "unknown"),
        (  # GitHub's branch protection, and a ruleset
            "remote: error: GH006: Protected branch update failed for refs/heads/main.\n"
            "!\tabc:refs/heads/main\t[remote rejected] (protected branch hook declined)",
            True,
            gitrun.REFUSED,
        ),
        (
            "!\tabc:refs/heads/main\t[remote rejected] (push declined due to repository rule "
            "violations)",
            True,
            gitrun.REFUSED,
        ),
        (
            "remote: Permission to org/c.git denied to github-actions[bot].\nfatal: unable to "
            "access 'https://github.com/org/c.git/': The requested URL returned error: 403",
            True,
            gitrun.AUTH,
        ),
        ("fatal: could not read Username for 'https://github.com'", False, gitrun.AUTH),
        ("fatal: couldn't find remote ref main", False, gitrun.MISSING),
        ("remote: Repository not found.\nfatal: repository '...' not found", False, "missing"),
        ("fatal: unable to access '...': The requested URL returned error: 502", False, "retry"),
        ("fatal: unable to access '...': Could not resolve host: github.com", False, "retry"),
        ("fatal: something nobody expected", True, gitrun.UNKNOWN),
    ],
)
def test_git_failures_are_classified(output, pushed, kind):
    assert gitrun.classify(output, pushed=pushed) == kind


def test_backoff_is_full_jitter_below_the_cap():
    rng = random.Random(7)
    policy = Backoff(base=1.0, cap=32.0)
    waits = [policy.delay(k, rng) for k in range(12) for _ in range(50)]
    assert all(0 <= w <= 32.0 for w in waits)
    assert max(policy.delay(0, rng) for _ in range(200)) <= 1.0
    assert len({round(w, 6) for w in waits}) == len(waits)  # no two recorders wait alike


def test_outcome_round_trips_and_refuses_foreign_files(tmp_path):
    store = make_store(tmp_path)
    outcome = land(make_recorder(store, tmp_path, "frank"), store.bare)
    assert Outcome.from_json(outcome.to_json()) == outcome
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 9}')
    with pytest.raises(RecordError, match="not an outcome written by `pr record`"):
        read_outcome(bad)
    assert read_outcome(tmp_path / "absent.json").error == "the record job did not finish"


# ---------------------------------------------------------------- the report tells the truth


def evaluate_and_record(world, tmp: Path, remote: Path, run_id: int, *, meanwhile=None) -> int:
    """prepare -> score -> record --push -> report --recorded, as evaluate.yml chains them;
    ``meanwhile()`` runs after score (another pull request recording first)."""
    root, work = str(world.checkout), tmp / f"run-{run_id}"
    plan, records, outcome = str(work / "prepared"), str(work / "records"), str(work / "out.json")
    assert main(["pr", "prepare", "--root", root, "--out", plan]) == 0
    score = ["pr", "score", "--root", root, "--plan", plan, "--item", ITEM, "--out", records]
    assert main(score) == 0
    if meanwhile:
        meanwhile()
    push_args = ["--push", BRANCH, "--remote", str(remote), "--outcome", outcome]
    code = main(["pr", "record", "--root", root, "--records", records, *push_args])
    args = ["pr", "report", "--root", root, "--plan", plan, "--records", records]
    assert main([*args, "--recorded", outcome]) == 0
    return code


def results_remote(world, tmp: Path, hook: str | None = None) -> Path:
    bare = tmp / "results.git"
    git(tmp, "clone", "-q", "--bare", str(world.state.repo.path), str(bare))
    git(bare, "update-ref", "refs/heads/main", world.base)
    if hook:
        (bare / "hooks" / "pre-receive").write_text(hook)
        (bare / "hooks" / "pre-receive").chmod(0o755)
    return bare


def submit(world, monkeypatch, run_id: int):
    files = {
        "submissions/breast-cancer/alice/gbm.yaml": MANIFEST,
        "submissions/breast-cancer/alice/gbm.csv": PREDICTIONS,
    }
    return pr_push(world, monkeypatch, files, run_id=run_id, parent=world.base)


def test_report_says_scored_only_once_the_record_landed(world, monkeypatch, tmp_path):
    remote = results_remote(world, tmp_path)
    head = submit(world, monkeypatch, 501)
    assert evaluate_and_record(world, tmp_path, remote, 501) == 0
    [comment] = bot_comments(world)
    assert "### ✅ Breast cancer diagnosis — scored" in comment["body"]
    assert world.state.labels[7] == ["evaluated"]
    assert world.state.statuses[-1]["sha"] == head
    assert world.state.statuses[-1]["state"] == "success"
    landed = [p for p in tree_files(remote, BRANCH) if p.startswith("results/breast-cancer/")]
    assert len(landed) == 1 and landed[0].startswith("results/breast-cancer/alice/gbm/")


def test_report_says_not_recorded_when_the_branch_is_protected(world, monkeypatch, tmp_path):
    remote = results_remote(world, tmp_path, hook=HOOK)
    submit(world, monkeypatch, 502)
    assert evaluate_and_record(world, tmp_path, remote, 502) == 1  # record fails at once

    [comment] = bot_comments(world)
    body = comment["body"]
    assert "### ⚠️ Breast cancer diagnosis — platform error" in body
    assert (
        "> "
        + md_text(
            "the evaluation finished but was not recorded (the results store refused the "
            "records); it does not count"
        )
        in body
    )
    assert "0.9983" not in body and "provisional rank" not in body  # no score shown
    assert world.state.labels[7] == ["error"]  # not "evaluated"
    status = world.state.statuses[-1]
    assert (status["state"], status["description"]) == ("error", "not recorded (platform error)")
    assert not [p for p in tree_files(remote, BRANCH) if p.startswith("results/")]


def test_report_says_over_the_limit_when_a_racing_pr_used_the_quota(world, monkeypatch, tmp_path):
    remote = results_remote(world, tmp_path)
    # Another pull request of alice's recorded 5 evaluations today after this one's prepare.
    now = datetime.now(UTC).replace(microsecond=0)
    seeded = tmp_path / "seeded"
    for _ in range(5):
        write_result(seeded, result(challenge="breast-cancer", participant="alice", created_at=now))
    submit(world, monkeypatch, 503)
    other = ["pr", "record", "--root", str(world.checkout), "--records", str(seeded)]
    other += ["--push", BRANCH, "--remote", str(remote)]
    assert evaluate_and_record(world, tmp_path, remote, 503, meanwhile=lambda: main(other)) == 0

    body = bot_comments(world)[0]["body"]
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
    assert "### 🚫 Breast cancer diagnosis — over the limit" in body
    assert (
        "> "
        + md_text(
            "over the limit, not recorded: 5 of 5 evaluations used today (UTC); "
            f"next at {tomorrow} 00:00 UTC"
        )
        in body
    )
    assert "0.9983" not in body
    assert world.state.labels[7] == ["over-limit"]
    status = world.state.statuses[-1]
    assert (status["state"], status["description"]) == ("failure", "over the limit, not recorded")
    alice = [p for p in tree_files(remote, BRANCH) if p.startswith("results/breast-cancer/alice")]
    assert len(alice) == 5  # the sixth is not stored
    # limits as the store has them, not as the base checkout (no records of alice's) had
    assert f"**Limits after this pull request** · 0 evaluations left today (resets {tomorrow} " in (
        body
    )


def test_report_limits_count_what_other_pull_requests_recorded_since_the_base(
    world, monkeypatch, tmp_path
):
    """Two evaluations of alice's landed after this PR's base: the limits line counts them
    with this one (5 - 2 - 1 = 2 left today, 100 - 3 = 97 in the phase), as the store has it;
    the base checkout alone would say 4 and 99."""
    remote = results_remote(world, tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    seeded = tmp_path / "seeded"
    for _ in range(2):
        write_result(seeded, result(challenge="breast-cancer", participant="alice", created_at=now))
    submit(world, monkeypatch, 504)
    other = ["pr", "record", "--root", str(world.checkout), "--records", str(seeded)]
    other += ["--push", BRANCH, "--remote", str(remote)]
    assert evaluate_and_record(world, tmp_path, remote, 504, meanwhile=lambda: main(other)) == 0
    outcome = read_outcome(tmp_path / "run-504" / "out.json")
    assert [(x.participant, x.left_today, x.left_total) for x in outcome.limits] == [
        ("alice", 2, 97)
    ]
    body = bot_comments(world)[0]["body"]
    assert "### ✅ Breast cancer diagnosis — scored" in body
    assert "**Limits after this pull request** · 2 evaluations left today (resets " in body
    assert " · 97 left in this phase" in body
