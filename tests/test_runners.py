"""Runners per challenge: challenge.yaml's runs_on labels reach the plan's matrix (the
ingest job's runs-on), container.gpus becomes a device request, and an engine without a
GPU runtime refuses a GPU challenge unless told to run anyway (unsafe: on the CPU)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from runner.cli import main
from runner.loader import load_repo
from runner.models import ContainerSpec
from runner.sandbox import run_submission
from runner.sandbox.engine import missing_controls
from runner.sandbox.spec import container_kwargs

BASE = Path(__file__).parent / "examples" / "base"
CHALLENGE = "challenges/toy/challenge.yaml"
LIMITS = ContainerSpec(timeout_s=20, memory="64m", cpus=0.5, pids=32, output_limit="4m")
GPU_MISSING = (
    "GPUs (1 asked for; the engine has no GPU runtime such as nvidia: run this challenge on a "
    "GPU runner, see runs_on)"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    return root


def add_to_challenge(repo: Path, text: str) -> None:
    path = repo / CHALLENGE
    path.write_text(path.read_text() + text)


def test_runs_on_and_gpus_are_read_from_challenge_yaml(repo):
    add_to_challenge(repo, "runs_on: [self-hosted, gpu]\ncontainer: {gpus: 1}\n")
    loaded = load_repo(repo)
    assert not loaded.problems, loaded.problems
    toy = loaded.challenges["toy"]
    assert (toy.runs_on, toy.container.gpus) == (("self-hosted", "gpu"), 1)


def test_a_bad_runner_label_is_a_problem_naming_the_field(repo):
    add_to_challenge(repo, "runs_on: ['gpu; rm -rf /']\n")
    [problem] = [str(p) for p in load_repo(repo).problems]
    assert problem.startswith(f"{CHALLENGE}:")
    assert "$.runs_on[0]: 'gpu; rm -rf /' does not match" in problem


def test_the_plan_matrix_carries_the_challenge_runner_labels(repo, tmp_path, monkeypatch):
    add_to_challenge(repo, "runs_on: [self-hosted, gpu]\n")
    outputs = tmp_path / "outputs.txt"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    manifest = repo / "submissions/toy/alice/first.yaml"
    code = main(["pr", "prepare", "--root", str(repo), "--out", str(tmp_path / "p"), str(manifest)])
    assert code == 0
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    [entry] = json.loads(values["matrix"])["include"]
    assert (entry["challenge"], entry["runs_on"]) == ("toy", ["self-hosted", "gpu"])
    plan = json.loads((tmp_path / "p" / "plan.json").read_text())
    assert plan["items"][0]["runs_on"] == ["self-hosted", "gpu"]


def test_without_runs_on_the_matrix_says_ubuntu_latest(repo, tmp_path, monkeypatch):
    outputs = tmp_path / "outputs.txt"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    manifest = repo / "submissions/toy/alice/first.yaml"
    assert (
        main(["pr", "prepare", "--root", str(repo), "--out", str(tmp_path / "p"), str(manifest)])
        == 0
    )
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert json.loads(values["matrix"])["include"][0]["runs_on"] == ["ubuntu-latest"]


def test_gpus_become_a_device_request_and_none_without(tmp_path):
    def kwargs(limits):
        return container_kwargs(
            "img", None, limits, input_dir=tmp_path, submission_dir=None,
            output_dir=tmp_path, run_id="r", deadline=60,
        )  # fmt: skip

    [request] = kwargs(ContainerSpec(gpus=2))["device_requests"]
    assert (request["Count"], request["Capabilities"]) == (2, [["gpu"]])
    assert "device_requests" not in kwargs(ContainerSpec())


@pytest.mark.docker
def test_an_engine_without_a_gpu_runtime_refuses_a_gpu_challenge(
    docker_client, busybox_image, tmp_path
):
    if set(docker_client.info().get("Runtimes") or {}) & {"nvidia"}:
        pytest.skip("this engine has a GPU runtime")
    gpu = replace(LIMITS, gpus=1)
    assert GPU_MISSING in missing_controls(docker_client, gpu)
    assert GPU_MISSING not in missing_controls(docker_client, LIMITS)
    dirs = {name: tmp_path / name for name in ("input_dir", "submission_dir", "work_dir")}
    for path in dirs.values():
        path.mkdir()
    (dirs["submission_dir"] / "p.sh").write_text("echo 'id,y' >/output/predictions.csv\n")
    command = ["sh", "/submission/p.sh"]
    refused = run_submission(busybox_image, command, **dirs, limits=gpu, client=docker_client)
    assert refused.status == "error"
    assert GPU_MISSING in refused.message
    anyway = run_submission(
        busybox_image, command, **dirs, limits=gpu, client=docker_client, unsafe=True
    )
    assert (anyway.status, anyway.message) == ("ok", "completed")  # on the CPU
