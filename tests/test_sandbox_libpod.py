"""Podman's own create (runner/sandbox/libpod.py), which the runner uses for rootless Podman
(its compatible create drops ulimits there), made here on the rootful service: the container
it makes holds every control ``verify.py`` reads back, and the kernel applies them.
The rootless runs themselves are in the cgroup v2 guest (test_sandbox_rootless_v2.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import PODMAN_HOST, connect_or_skip

from runner.models import ContainerSpec
from runner.sandbox import libpod as podman_api
from runner.sandbox.engine import libpod
from runner.sandbox.spec import container_kwargs, parse_size
from runner.sandbox.verify import mismatches

pytestmark = [pytest.mark.docker, pytest.mark.podman]

LIMITS = ContainerSpec(timeout_s=20, memory="64m", cpus=0.5, pids=32, output_limit="4m")
PROBE = (
    "ulimit -f; ulimit -n; ulimit -c; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; id -u; "
    "hostname; env | sort | tr '\\n' ' '; echo; unshare -r true 2>/dev/null; echo unshare=$?"
)


@pytest.fixture
def podman_client():
    client = connect_or_skip(PODMAN_HOST, "Podman service")
    client.engine_name = "podman"
    yield client
    client.close()


def test_podmans_own_create_holds_every_control(podman_client, tmp_path: Path):
    podman_client.images.get("challenge-runner/busybox:test")  # in the store since install
    for name in ("in", "sub", "out"):
        (tmp_path / name).mkdir()
    kwargs = container_kwargs(
        "challenge-runner/busybox:test", ["sh", "-c", PROBE], LIMITS,
        input_dir=tmp_path / "in", submission_dir=tmp_path / "sub",
        output_dir=tmp_path / "out", run_id="libpod-test", deadline=int(time.time()) + 120,
        engine_kind="podman",
    )  # fmt: skip
    container = podman_api.create(podman_client, kwargs)
    try:
        inspect = libpod(podman_client, f"containers/{container.id}/json")
        granted = libpod(podman_client, "info")["host"]["security"]["capabilities"]
        caps = frozenset(c.removeprefix("CAP_") for c in granted.split(","))
        assert mismatches(kwargs, container.attrs, libpod=inspect, engine_caps=caps) == []
        container.start()
        assert container.wait(timeout=60)["StatusCode"] == 0
        lines = container.logs().decode().splitlines()
    finally:
        container.remove(force=True)
    fsize = max(parse_size(LIMITS.output_limit), parse_size(LIMITS.tmp_size)) // 512
    assert lines[:6] == [str(fsize), "1024", "0", str(64 << 20), "65534", "sandbox"]
    assert "http_proxy" not in lines[6].lower()  # nothing from the host's environment
    assert lines[7] == "unshare=1"  # the sandbox's seccomp profile, not Podman's default
