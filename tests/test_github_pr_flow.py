"""End to end: a simulated pull_request_target event through the `pr` commands.

A real git repository holds the base branch (the example breast-cancer challenge) and the
pull request's commits; the loopback API serves them to real PyGithub; the base checkout is
a clone, as actions/checkout makes it. prepare -> score -> record -> report must validate,
evaluate, record a result and post exactly one comment, updated in place on a second push,
never overwritten by the older run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from github_server import BOT, GitRepo, Pull, ServerState, serve

from runner.cli import main
from runner.github.sticky import parse_marker
from runner.records import load_results

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE = ROOT / "challenges" / "breast-cancer"
PREDICTIONS = (ROOT / "submissions/breast-cancer/octocat/logreg.csv").read_text()
PAYLOAD = "@org/x <img src=x> [a](javascript:x)"
MANIFEST = f"""challenge: breast-cancer
participant: alice
name: gbm
description: "{PAYLOAD}"
predictions: gbm.csv
"""
ITEM = "breast-cancer/alice/gbm"


@pytest.fixture
def world(tmp_path, monkeypatch):
    origin = GitRepo(tmp_path / "origin")
    files = {
        f"challenges/breast-cancer/{p.relative_to(CHALLENGE)}": p.read_bytes()
        for p in CHALLENGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    files["teams.yaml"] = "teams:\n  owls:\n    members:\n      - {login: alice, id: 1001}\n"
    base = origin.commit(files, branch="main", message="base")
    checkout = tmp_path / "base"
    subprocess.run(["git", "clone", "-q", str(origin.path), str(checkout)], check=True)
    state = ServerState(origin)
    monkeypatch.delenv("BREAST_CANCER_KEY", raising=False)  # the demo key decrypts
    with serve(state) as server:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
        monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request_target")
        monkeypatch.setenv("GITHUB_REPOSITORY", state.full_name)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
        monkeypatch.setenv("GITHUB_TOKEN", "bot-token")
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
        monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output.txt"))
        server.base, server.checkout, server.tmp = base, checkout, tmp_path
        yield server


def push(world, monkeypatch, files, *, run_id, login="alice", user_id=1001, parent=None):
    """Commit ``files`` on the PR branch and write the event a push would send."""
    head = world.state.repo.commit(
        files, parent=parent or world.state.pulls.get(7, Pull(7, world.base, world.base)).head_sha
    )
    world.state.pulls[7] = Pull(7, head, world.base, login=login, user_id=user_id)
    event = {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": head, "ref": "gbm"},
            "base": {"sha": world.base, "ref": "main"},
            "user": {"login": login, "id": user_id},
        },
        "repository": {"full_name": world.state.full_name},
    }
    path = world.tmp / f"event-{run_id}.json"
    path.write_text(json.dumps(event))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    monkeypatch.setenv("GITHUB_RUN_ID", str(run_id))
    return head


def run_workflow(world, run_id: int, *, record: bool = True) -> Path:
    """The evaluate workflow's commands for a predictions submission, in job order."""
    root, work = str(world.checkout), world.tmp / f"run-{run_id}"
    plan, records = str(work / "prepared"), str(work / "records")
    assert main(["pr", "prepare", "--root", root, "--out", plan]) == 0
    if record:
        assert (
            main(["pr", "score", "--root", root, "--plan", plan, "--item", ITEM, "--out", records])
            == 0
        )
        assert main(["pr", "record", "--records", records, "--results", f"{root}/results"]) == 0
    assert main(["pr", "report", "--root", root, "--plan", plan, "--records", records]) == 0
    return work


def bot_comments(world):
    return [c for c in world.state.comments_on(7) if c["user"]["login"] == BOT["login"]]


def test_pull_request_is_evaluated_and_reported_once(world, monkeypatch, capsys):
    first = push(
        world,
        monkeypatch,
        {
            "submissions/breast-cancer/alice/gbm.yaml": MANIFEST,
            "submissions/breast-cancer/alice/gbm.csv": PREDICTIONS,
        },
        run_id=101,
        parent=world.base,
    )
    run_workflow(world, 101)

    [comment] = bot_comments(world)
    body = comment["body"]
    assert parse_marker(body) == ("breast-cancer", first)
    assert "### ✅ Breast cancer diagnosis — scored" in body
    assert "| roc\\_auc (primary) | 0.9983 |" in body
    assert "provisional rank **1** of 1 · this submission leads the board" in body
    assert "4 evaluations left today" in body
    assert "[Workflow run](https://github.com/org/challenges/actions/runs/101)" in body
    assert "<img" not in body and "](javascript" not in body and "@org" not in body
    assert world.state.labels[7] == ["evaluated"]
    status = world.state.statuses[-1]
    assert (status["sha"], status["state"], status["context"]) == (
        first,
        "success",
        "challenge-runner/breast-cancer",
    )
    assert "matrix=" in (world.tmp / "output.txt").read_text()
    assert body.splitlines()[1] in (world.tmp / "summary.md").read_text()

    [result] = load_results(world.checkout / "results").results
    assert (result.participant, result.user_id, result.status) == ("alice", 1001, "scored")
    assert (result.provenance.commit, result.provenance.pull_request) == (first, 7)
    assert result.provenance.run_url == "https://github.com/org/challenges/actions/runs/101"
    assert not world.calls("GET", r"/contents/submissions")  # PR files by blob, never checkout

    # Second push: new predictions. The same comment is edited in place.
    changed = PREDICTIONS.replace("bc-0001,0.999503", "bc-0001,0.100000")
    second = push(
        world, monkeypatch, {"submissions/breast-cancer/alice/gbm.csv": changed}, run_id=102
    )
    run_workflow(world, 102)
    [again] = bot_comments(world)
    assert again["id"] == comment["id"]
    assert parse_marker(again["body"]) == ("breast-cancer", second)
    assert len(world.calls("POST", r"/issues/7/comments$")) == 1
    assert len(load_results(world.checkout / "results").results) == 2
    assert "3 evaluations left today" in again["body"]

    # A late report from the first run must not overwrite the newer comment.
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(world.tmp / "event-101.json"))
    plan = str(world.tmp / "run-101" / "prepared")
    assert main(["pr", "report", "--root", str(world.checkout), "--plan", plan]) == 0
    assert "comment skipped-stale" in capsys.readouterr().out
    assert bot_comments(world)[0]["body"] == again["body"]


def test_spoofed_folder_is_refused_with_one_invalid_comment(world, monkeypatch):
    # mallory writes into alice's folder and claims to be alice.
    push(
        world,
        monkeypatch,
        {
            "submissions/breast-cancer/alice/gbm.yaml": MANIFEST,
            "submissions/breast-cancer/alice/gbm.csv": PREDICTIONS,
        },
        run_id=201,
        login="mallory",
        user_id=666,
        parent=world.base,
    )
    run_workflow(world, 201, record=False)
    [comment] = bot_comments(world)
    assert "### ❌ Submission rules — invalid submission" in comment["body"]
    assert "#### ❌ this pull request by mallory — invalid submission" in comment["body"]
    assert (
        "- submissions\\/breast\\-cancer\\/alice\\/gbm\\.yaml\\: \\'mallory\\' may not add or "
        "change files in submissions\\/breast\\-cancer\\/alice\\/\\: use "
        "submissions\\/breast\\-cancer\\/mallory\\/ or a team folder you are a member of"
    ) in comment["body"]
    assert world.state.labels[7] == ["invalid"]
    assert world.state.statuses[-1]["state"] == "failure"
    assert not (world.checkout / "results").exists()
    assert not world.calls("GET", r"/git/blobs/")  # nothing fetched from a refused PR


def test_manifest_naming_another_participant_is_invalid(world, monkeypatch):
    manifest = MANIFEST.replace("participant: alice", "participant: bob")
    push(
        world,
        monkeypatch,
        {
            "submissions/breast-cancer/alice/gbm.yaml": manifest,
            "submissions/breast-cancer/alice/gbm.csv": PREDICTIONS,
        },
        run_id=301,
        parent=world.base,
    )
    run_workflow(world, 301, record=False)
    [comment] = bot_comments(world)
    body = comment["body"]
    assert "invalid submission" in body
    assert (
        "- submissions\\/breast\\-cancer\\/alice\\/gbm\\.yaml\\:2\\: \\$\\.participant\\: "
        "participant \\'bob\\' does not match the folder \\'alice\\'"
    ) in body
    assert world.state.labels[7] == ["invalid"]
    assert not (world.checkout / "results").exists()


def test_failed_prepare_is_reported_as_the_platforms_error(world, monkeypatch, capsys):
    files = {
        "submissions/breast-cancer/alice/gbm.yaml": MANIFEST,
        "submissions/breast-cancer/alice/gbm.csv": PREDICTIONS,
    }
    push(world, monkeypatch, files, run_id=401, parent=world.base)
    world.state.fail_next[:] = [502] * 20  # the API keeps failing: prepare cannot finish
    plan = str(world.tmp / "run-401" / "prepared")
    assert main(["pr", "prepare", "--root", str(world.checkout), "--out", plan]) == 1
    assert "failed after retries" in capsys.readouterr().err
    world.state.fail_next.clear()
    assert main(["pr", "report", "--root", str(world.checkout), "--plan", plan]) == 0
    [comment] = bot_comments(world)
    assert "### ⚠️ Evaluation — platform error" in comment["body"]
    assert "The platform failed, this does not count against your limits." in comment["body"]
    assert world.state.labels[7] == ["error"]
    assert world.state.statuses[-1]["state"] == "error"


@pytest.mark.docker
def test_container_pull_request_through_every_job(world, monkeypatch, python_image):
    from runner.data import keygen

    model = ROOT / "submissions/breast-cancer/hubot/model"
    files = {
        f"submissions/breast-cancer/alice/model/{p.name}": p.read_bytes() for p in model.iterdir()
    }
    files["submissions/breast-cancer/alice/small.yaml"] = (
        "challenge: breast-cancer\nparticipant: alice\nname: small\n"
        "build: {context: model/}\ncommand: [python3, /opt/model/predict.py]\n"
    )
    head = push(world, monkeypatch, files, run_id=501, parent=world.base)
    identity, recipient = keygen()
    root, work = str(world.checkout), world.tmp / "run-501"
    plan = str(work / "prepared")
    common = ["--root", root, "--plan", plan, "--item", "breast-cancer/alice/small"]
    assert main(["pr", "prepare", "--root", root, "--out", plan]) == 0
    assert "has_containers=true" in (world.tmp / "output.txt").read_text()
    monkeypatch.setenv("INGEST_RECIPIENT", recipient)
    assert main(["pr", "stage", *common, "--out", str(work / "staged")]) == 0
    monkeypatch.setenv("INGEST_KEY", identity)
    monkeypatch.delenv("GITHUB_TOKEN")  # the ingest job has no token
    args = ["--staged", str(work / "staged"), "--out", str(work / "ingested")]
    assert main(["pr", "ingest", *common, *args]) == 0
    monkeypatch.delenv("INGEST_KEY")
    monkeypatch.setenv("GITHUB_TOKEN", "bot-token")
    records = str(work / "records")
    assert (
        main(["pr", "score", *common, "--ingested", str(work / "ingested"), "--out", records]) == 0
    )
    assert main(["pr", "record", "--records", records, "--results", f"{root}/results"]) == 0
    assert main(["pr", "report", "--root", root, "--plan", plan, "--records", records]) == 0
    [comment] = bot_comments(world)
    assert parse_marker(comment["body"]) == ("breast-cancer", head)
    assert "### ✅ Breast cancer diagnosis — scored" in comment["body"]
    [result] = load_results(world.checkout / "results").results
    assert (result.submission, result.status, result.provenance.pull_request) == (
        "small",
        "scored",
        7,
    )
    assert result.provenance.image_digest


def manifest(name: str, participant: str = "alice", folder: str | None = None) -> dict:
    where = f"submissions/breast-cancer/{folder or participant}"
    return {
        f"{where}/{name}.yaml": (
            f"challenge: breast-cancer\nparticipant: {participant}\nname: {name}\n"
            f"predictions: {name}.csv\n"
        ),
        f"{where}/{name}.csv": PREDICTIONS,
    }


def test_a_pr_with_more_manifests_than_the_daily_limit_gets_only_the_limit(world, monkeypatch):
    """per_day: 5 and 7 manifests in one PR: 5 evaluated and counted, 2 over the limit."""
    files = {k: v for n in range(1, 8) for k, v in manifest(f"m{n}").items()}
    push(world, monkeypatch, files, run_id=601, parent=world.base)
    root, plan = str(world.checkout), str(world.tmp / "run-601" / "prepared")
    assert main(["pr", "prepare", "--root", root, "--out", plan]) == 0
    items = json.loads((Path(plan) / "plan.json").read_text())["items"]
    assert [(i["name"], i["status"]) for i in items] == [
        *[(f"m{n}", "ready") for n in range(1, 6)],
        ("m6", "over_limit"),
        ("m7", "over_limit"),
    ]
    assert items[5]["problems"][0]["message"] == (
        "over the limit, not evaluated and not counted: 5 of 5 evaluations used today (UTC); "
        f"next at {_next_midnight()}"
    )
    matrix = (world.tmp / "output.txt").read_text()
    assert "m5" in matrix and "m6" not in matrix


def _next_midnight() -> str:
    from datetime import UTC, datetime, time, timedelta

    today = datetime.now(UTC).date()
    return f"{datetime.combine(today + timedelta(days=1), time()):%Y-%m-%d %H:%M} UTC"


def test_a_case_variant_of_the_authors_login_is_refused(world, monkeypatch):
    """alice submitting as ALICE in submissions/<c>/ALICE/: no fresh quota, no second entrant."""
    push(world, monkeypatch, manifest("gbm", "ALICE"), run_id=701, parent=world.base)
    run_workflow(world, 701, record=False)
    [comment] = bot_comments(world)
    assert "### ❌ Submission rules — invalid submission" in comment["body"]
    assert (
        "\\'alice\\' may not add or change files in submissions\\/breast\\-cancer\\/ALICE\\/\\: "
        "use submissions\\/breast\\-cancer\\/alice\\/"
    ) in comment["body"]
    assert not (world.checkout / "results").exists()


def test_one_comment_lists_every_submission_of_each_kind(world, monkeypatch):
    """scored, invalid (predictions and manifest), failed, timeout and over the limit."""
    from datetime import UTC, datetime

    from records_factory import result

    from runner.records import new_evaluation_id, write_result

    digest = "ghcr.io/alice/m@sha256:" + "a" * 64
    files = {**manifest("good"), **manifest("badcsv")}
    files["submissions/breast-cancer/alice/badcsv.csv"] = "id,malignant\nbc-0001,2\n"
    for name in ("crash", "slow"):
        files[f"submissions/breast-cancer/alice/{name}.yaml"] = (
            f"challenge: breast-cancer\nparticipant: alice\nname: {name}\nimage: {digest}\n"
        )
    files.update(manifest("extra1"))
    files.update(manifest("zextra"))
    files.update(manifest("zzextra"))  # the 6th ready one (plan order): over the limit
    files["submissions/breast-cancer/alice/broken.yaml"] = "challenge: breast-cancer\nname: 3\n"
    head = push(world, monkeypatch, files, run_id=801, parent=world.base)
    root, work = str(world.checkout), world.tmp / "run-801"
    plan, records = str(work / "prepared"), work / "records"
    assert main(["pr", "prepare", "--root", root, "--out", plan]) == 0
    # badcsv is refused by prepare (validate's checks against the public ids): not evaluated,
    # not counted, so the limit still lets five through.
    for name in ("good", "extra1", "zextra"):
        args = ["--plan", plan, "--item", f"breast-cancer/alice/{name}", "--out", str(records)]
        assert main(["pr", "score", "--root", root, *args]) == 0
    now = datetime.now(UTC)
    for name, status in (("crash", "failed"), ("slow", "timeout")):  # as the score job writes them
        write_result(records, result(challenge="breast-cancer", participant="alice",
                                     submission=name, status=status, scores={}, user_id=1001,
                                     message=f"the container {status}", created_at=now,
                                     evaluation_id=new_evaluation_id(now)))  # fmt: skip
    assert main(["pr", "record", "--records", str(records), "--results", f"{root}/results"]) == 0
    assert main(["pr", "report", "--root", root, "--plan", plan, "--records", str(records)]) == 0

    [comment] = bot_comments(world)
    body = comment["body"]
    assert parse_marker(body) == ("breast-cancer", head)
    assert "### ❌ Breast cancer diagnosis — 8 submissions: 2 invalid submission, " in body
    assert "1 submission failed, 1 submission timed out, 1 over the limit, 3 scored" in body
    for name, words in (
        ("broken", "❌ invalid submission"),
        ("crash", "❌ submission failed"),
        ("zzextra", "🚫 over the limit"),
        ("slow", "⏱️ submission timed out"),
        ("badcsv", "❌ invalid submission"),  # refused by prepare, like broken
    ):
        assert f"| {name} | alice | {words} | — | — | — | — | — |" in body
    assert "| good | alice | ✅ scored | 0.9983 [" in body
    assert "| extra1 | alice | ✅ scored | 0.9983 [" in body
    assert "| zextra | alice | ✅ scored | 0.9983 [" in body
    assert body.count("#### ") == 8
    assert "**Limits after this pull request** · 0 evaluations left today" in body
    assert world.state.labels[7] == ["invalid"]
    recorded = load_results(world.checkout / "results").results
    assert sorted(r.submission for r in recorded) == ["crash", "extra1", "good", "slow", "zextra"]


def test_selected_marks_beyond_the_selection_count_are_refused_per_pull_request(world, monkeypatch):
    """selection: 2, one mark committed on the base: of the PR's three marks the first fits,
    the next two are invalid (neither evaluated nor counted); an unmarked one is evaluated.
    A PR that unmarks a committed manifest frees its place."""
    origin, checkout = world.state.repo, world.checkout
    yaml = (CHALLENGE / "challenge.yaml").read_text()
    marked = "challenge: breast-cancer\nparticipant: alice\nname: {0}\npredictions: {0}.csv\n"
    base = origin.commit(
        {
            "challenges/breast-cancer/challenge.yaml": yaml.replace(
                "limits: {per_day: 2, total: 10}",
                "limits: {per_day: 2, total: 10}\n    selection: 2",
            ),
            "submissions/breast-cancer/alice/old.yaml": marked.format("old") + "selected: true\n",
            "submissions/breast-cancer/alice/old.csv": PREDICTIONS,
        },
        branch="main",
        parent=world.base,
        message="selection: 2; alice's committed pick",
    )
    subprocess.run(["git", "-C", str(checkout), "pull", "-q", "--ff-only"], check=True)
    world.base = base
    files = {}
    for name, selected in (("b", True), ("c", True), ("d", False), ("e", True)):
        files.update(manifest(name))
        if selected:
            files[f"submissions/breast-cancer/alice/{name}.yaml"] += "selected: true\n"
    push(world, monkeypatch, files, run_id=901, parent=base)
    plan = world.tmp / "run-901" / "prepared"
    assert main(["pr", "prepare", "--root", str(checkout), "--out", str(plan)]) == 0
    items = json.loads((plan / "plan.json").read_text())["items"]
    assert [(i["name"], i["status"]) for i in items] == [
        ("b", "ready"),
        ("c", "invalid"),
        ("d", "ready"),
        ("e", "invalid"),
    ]
    assert items[1]["problems"] == [
        {
            "path": "submissions/breast-cancer/alice/c.yaml",
            "line": None,
            "column": None,
            "json_path": "$.selected",
            "message": "alice marks 3 submissions of breast-cancer selected (old, b, c), but "
            "phase 'final' counts 2 (selection:); remove selected from the others",
        }
    ]
    assert "(old, b, e)" in items[3]["problems"][0]["message"]
    matrix = (world.tmp / "output.txt").read_text()
    assert "breast-cancer/alice/b" in matrix and "breast-cancer/alice/c" not in matrix

    # the next push also unmarks the committed one: now b and c fit, e is still one too many
    files["submissions/breast-cancer/alice/old.yaml"] = marked.format("old")
    push(world, monkeypatch, files, run_id=902)
    plan = world.tmp / "run-902" / "prepared"
    assert main(["pr", "prepare", "--root", str(checkout), "--out", str(plan)]) == 0
    items = json.loads((plan / "plan.json").read_text())["items"]
    statuses = {i["name"]: i["status"] for i in items}
    assert statuses == {"old": "ready", "b": "ready", "c": "ready", "d": "ready", "e": "invalid"}

    # deleting the committed pick frees its place too
    gone = {"submissions/breast-cancer/alice/old.yaml": None}
    push(world, monkeypatch, {**gone, "submissions/breast-cancer/alice/old.csv": None}, run_id=903)
    plan = world.tmp / "run-903" / "prepared"
    assert main(["pr", "prepare", "--root", str(checkout), "--out", str(plan)]) == 0
    items = json.loads((plan / "plan.json").read_text())["items"]
    statuses = {i["name"]: i["status"] for i in items}
    assert statuses == {"b": "ready", "c": "ready", "d": "ready", "e": "invalid"}
