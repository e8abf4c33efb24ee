"""gVisor under Podman: a service started with ``podman --runtime runsc`` (the compatible API
ignores the runtime asked per container, so the service's is the only one that applies).

The runner accepts ``container.runtime: runsc`` only from such a service, reads the runtime
back from each created container (``OCIRuntime``) and, once started, checks that gVisor
applies the seccomp profile (``--oci-seccomp`` on its sandbox process). The service is the
one ``scripts/podman-service.sh`` starts at ``CHALLENGE_RUNNER_PODMAN_GVISOR_HOST``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import docker
import pytest
from conftest import BUSYBOX_IMAGE, PODMAN_HOST, connect_or_skip

from runner.models import ContainerSpec
from runner.sandbox import run_submission
from runner.sandbox.live import gvisor_problems

pytestmark = pytest.mark.podman

GVISOR_HOST = os.environ.get(
    "CHALLENGE_RUNNER_PODMAN_GVISOR_HOST", "unix:///run/challenge-runner-podman-runsc.sock"
)
LIMITS = ContainerSpec(timeout_s=60, memory="256m", cpus=1.0, pids=128, output_limit="4m")
KERNEL = "cat /proc/version >/output/predictions.csv"
GVISOR_VERSION = "Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016"


@pytest.fixture(scope="session")
def gvisor_podman():
    client = connect_or_skip(GVISOR_HOST, "Podman service under gVisor")
    client.images.get(BUSYBOX_IMAGE)  # the rootful store, shared with scripts' first service
    yield client
    client.close()


@pytest.fixture
def dirs(tmp_path: Path) -> dict:
    made = {"input_dir": tmp_path / "in", "submission_dir": None, "work_dir": tmp_path / "work"}
    for key in ("input_dir", "work_dir"):
        made[key].mkdir()
    return made


def test_runsc_asked_runs_under_gvisor(gvisor_podman, dirs):
    outcome = run_submission(
        BUSYBOX_IMAGE, ["sh", "-c", KERNEL], **dirs,
        limits=replace(LIMITS, runtime="runsc"), client=gvisor_podman,
    )  # fmt: skip
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    assert outcome.predictions.read_text().startswith(GVISOR_VERSION)


def test_too_few_pids_is_refused_even_unsafe_before_anything_hangs(gvisor_podman, dirs):
    """Below 128 pids gVisor's start hangs, and the hung start blocks the whole service."""
    limits = replace(LIMITS, pids=32)
    for unsafe in (False, True):
        outcome = run_submission(
            BUSYBOX_IMAGE, ["true"], **dirs, limits=limits, client=gvisor_podman, unsafe=unsafe
        )
        assert (outcome.status, outcome.message) == (
            "error",
            "this Podman service runs every container under gVisor ('runsc'), which needs a pids "
            "limit of at least 128 (its own threads count; below that its start hangs and "
            "blocks the service): raise container.pids from 32 or use another engine",
        )
        assert outcome.container_id is None  # refused before anything was created


def test_runsc_from_a_service_without_it_is_refused(gvisor_podman, dirs):
    """The first rootful service runs runc: asking it for runsc is refused, not ignored."""
    try:
        runc = docker.DockerClient(base_url=PODMAN_HOST)
        runc.ping()
    except Exception as err:  # no such service: skip with the reason
        pytest.skip(f"no Podman service at {PODMAN_HOST}: {err}")
    outcome = run_submission(
        BUSYBOX_IMAGE, ["true"], **dirs, limits=replace(LIMITS, runtime="runsc"), client=runc
    )
    runc.close()
    assert outcome.status == "error"
    assert outcome.message.startswith(
        "the container engine cannot enforce: runtime 'runsc' (Podman's Docker-compatible API "
        "ignores the runtime asked per container: this service runs every container with "
        "'runc'; run one started as `podman --runtime runsc --runtime-flag oci-seccomp system "
        "service`)."
    )


@pytest.fixture
def no_oci_seccomp(tmp_path: Path):
    """A Podman service under gVisor started WITHOUT --oci-seccomp (this test's own)."""
    if os.geteuid() != 0 or shutil.which("podman") is None:
        pytest.skip("starting a rootful Podman service needs root and podman")
    socket = tmp_path / "podman.sock"
    service = subprocess.Popen(
        ["podman", "--runtime", "runsc", "--runtime-flag", "network=none", "system",
         "service", "--time", "0", f"unix://{socket}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            if socket.exists():
                break
            time.sleep(0.1)
        client = docker.DockerClient(base_url=f"unix://{socket}")
        yield client
        client.close()
    finally:
        service.terminate()
        service.wait(timeout=30)


def test_gvisor_without_oci_seccomp_is_stopped(gvisor_podman, no_oci_seccomp, dirs):
    """Inspect reports the seccomp profile either way; only the sandbox process tells."""
    outcome = run_submission(
        BUSYBOX_IMAGE, ["sh", "-c", "sleep 5; " + KERNEL], **dirs,
        limits=replace(LIMITS, runtime="runsc"), client=no_oci_seccomp,
    )  # fmt: skip
    assert (outcome.status, outcome.message) == (
        "error",
        "the container engine did not apply every sandbox control; the run was stopped",
    )
    assert outcome.detail.endswith(
        ": gVisor runs without --oci-seccomp (it ignores the seccomp profile)"
    )
    stopped = outcome.detail.split("podman container ")[1][:12]
    with pytest.raises(docker.errors.NotFound):  # removed (the store is shared: ask by id)
        no_oci_seccomp.containers.get(stopped)


@pytest.mark.parametrize(
    ("args", "problems"),
    [
        (["runsc-sandbox", "--network=none", "--oci-seccomp=true", "boot"], []),
        (
            ["runsc-sandbox", "--network=none", "boot"],
            ["gVisor runs without --oci-seccomp (it ignores the seccomp profile)"],
        ),
        (["/run/podman-init", "--", "sh"], []),  # not gVisor: the cgroup checks apply
    ],
)
def test_gvisor_without_oci_seccomp_is_seen_on_the_sandbox_process(tmp_path, args, problems):
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "cmdline").write_bytes(b"\0".join(a.encode() for a in args) + b"\0")
    assert gvisor_problems(42, proc=tmp_path) == problems
    assert gvisor_problems(43, proc=tmp_path) == []  # gone: nothing seen, nothing claimed
