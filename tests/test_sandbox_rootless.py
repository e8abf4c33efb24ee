"""Rootless Podman, really run by an unprivileged user (scripts/podman-rootless-service.sh):
the runner refuses it, and with the unsafe flag runs it without the controls it cannot have.

Rootless Podman 4.3 on cgroup v1 claims every limit in its Docker-compatible ``/info`` and
does not say it is rootless there; it then ignores memory, swap, pids and CPU limits and
drops ulimits. These tests talk to the real service, so a change in what it answers shows.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from conftest import BUSYBOX_IMAGE

from runner.models import ContainerSpec
from runner.sandbox import run_submission
from runner.sandbox.engine import ROOTLESS_OUTPUT_CAP, describe_engine

pytestmark = pytest.mark.rootless

LIMITS = ContainerSpec(timeout_s=20, memory="64m", cpus=0.5, pids=32, output_limit="4m")
REFUSAL = (
    "the container engine cannot enforce: resource limits on a rootless podman with cgroup v1 "
    "(it ignores memory, swap, pids and CPU limits while /info claims them; use rootful Docker "
    f"or Podman, or rootless Podman on cgroup v2); {ROOTLESS_OUTPUT_CAP}. Fix the host (cgroup "
    "controllers, runtime, privileges) or pass --unsafe to run without these controls"
)
PROBE = (
    "{ cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ulimit -f; ulimit -n; }"
    " >/output/predictions.csv"
)


@pytest.fixture(autouse=True)
def _cgroup_v1() -> None:
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        pytest.skip("this host has cgroup v2: these tests state what rootless does on v1")


@pytest.fixture
def shared_dirs() -> Iterator[dict]:
    """Sandbox directories the unprivileged engine can reach (pytest's tmp_path is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="challenge-runner-rootless-"))
    try:
        base.chmod(0o755)
        dirs = {"input_dir": base / "in", "submission_dir": base / "sub", "work_dir": base / "w"}
        for path in dirs.values():
            path.mkdir(mode=0o755)
            path.chmod(0o755)
        yield dirs
    finally:
        shutil.rmtree(base)


def test_the_engine_is_seen_as_rootless_podman_on_cgroup_v1(rootless_client):
    engine = describe_engine(rootless_client)
    assert (engine.kind, engine.rootless, engine.cgroup_version) == ("podman", True, "1")
    # What makes /info alone untrustworthy: it claims every limit and hides rootless.
    info = rootless_client.info()
    assert all(info[k] for k in ("MemoryLimit", "SwapLimit", "PidsLimit", "CpuCfsQuota"))
    assert "name=rootless" not in (info.get("SecurityOptions") or [])


def test_rootless_on_cgroup_v1_is_refused_and_nothing_is_created(rootless_client, shared_dirs):
    outcome = run_submission(
        BUSYBOX_IMAGE, ["sh", "-c", PROBE], **shared_dirs, limits=LIMITS,
        client=rootless_client,
    )  # fmt: skip
    assert (outcome.status, outcome.message) == ("error", REFUSAL)
    assert outcome.container_id is None  # refused before anything was created
    assert list(shared_dirs["work_dir"].iterdir()) == []


def test_unsafe_runs_it_without_the_limits_and_says_so(rootless_client, shared_dirs, caplog):
    """The documented unsafe behaviour (hosting.md): it runs, with no memory, swap, pids or
    CPU limit, no ulimits, and an uncapped /output; every gap is logged as a warning."""
    caplog.set_level(logging.WARNING, logger="runner.sandbox")
    outcome = run_submission(
        BUSYBOX_IMAGE, ["sh", "-c", PROBE], **shared_dirs, limits=LIMITS,
        client=rootless_client, unsafe=True,
    )  # fmt: skip
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    memory, fsize, nofile = outcome.predictions.read_text().split()
    assert int(memory) != 64 << 20 and fsize == "unlimited" and nofile != "1024"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[:2] == [
        "running WITHOUT resource limits on a rootless podman with cgroup v1 (it ignores "
        "memory, swap, pids and CPU limits while /info claims them; use rootful Docker or "
        "Podman, or rootless Podman on cgroup v2) (unsafe mode)",
        f"running WITHOUT {ROOTLESS_OUTPUT_CAP} (unsafe mode)",
    ]
    unsafe = "running WITHOUT a control (unsafe mode): "
    assert warnings[2:7] == [
        unsafe + "Memory is 0, asked 67108864",
        unsafe + "MemorySwap is 0, asked 67108864",
        unsafe + "NanoCpus is 0, asked 500000000",
        unsafe + "PidsLimit is 0, asked 32",
        unsafe + "Ulimits fsize is None, asked (67108864, 67108864)",
    ]
    with pytest.raises(docker.errors.NotFound):  # removed after the run
        rootless_client.containers.get(outcome.container_id)
    assert os.listdir(shared_dirs["work_dir"]) == [outcome.predictions.name]
