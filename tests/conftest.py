"""Shared fixtures: the Docker engine and the offline test images.

``docker_client`` skips (with the engine's error as the reason) where no engine answers.
Where the engine, Chromium or act must be there (CI sets ``CHALLENGE_RUNNER_REQUIRE_DOCKER=1``,
``..._BROWSER=1`` and ``..._WORKFLOWS=1``), a skipped ``docker``, ``browser`` or
``workflows`` test is reported as a failure instead: a suite that silently skipped is not a
suite that passed.
``busybox_image`` and ``python_image`` build their image once per session with
``scripts/build-test-images.sh`` (cached by tag, so usually instant); a file lock keeps
parallel pytest-xdist workers from building the same image twice.

``engine_client`` (with ``engine_busybox`` and ``engine_python``) is the sandbox suites'
engine: Docker, and again rootful Podman (marked ``podman``) through the socket in
``CHALLENGE_RUNNER_PODMAN_HOST`` (default ``unix:///run/challenge-runner-podman.sock``, the
service ``scripts/install.sh`` starts); ``CHALLENGE_RUNNER_REQUIRE_PODMAN=1`` turns its skip
into a failure. The hostile suite runs a third time on Docker under gVisor (marked ``gvisor``;
``engine_client.sandbox_runtime`` names the runtime registered with ``path`` runsc, which
``scripts/gvisor-runtime.sh`` registers); ``CHALLENGE_RUNNER_REQUIRE_GVISOR=1`` turns its
skip into a failure. A fourth time on Podman under gVisor ("podman-gvisor", marked both): the
service ``scripts/podman-service.sh`` starts with runtime runsc at
``CHALLENGE_RUNNER_PODMAN_GVISOR_HOST``.
``rootless_client`` (marked ``rootless``) is rootless Podman, run by an unprivileged user
(``scripts/podman-rootless-service.sh``) at ``CHALLENGE_RUNNER_ROOTLESS_HOST``;
``CHALLENGE_RUNNER_REQUIRE_ROOTLESS=1`` turns its skip into a failure.
Tests marked ``cgroup2`` run on rootless Podman with delegated cgroup v2 controllers
("cgroup2" engine: the service of the user the tests run as, at
``CHALLENGE_RUNNER_CGROUP2_HOST``), which only the guest of ``scripts/cgroup2-vm.sh`` has:
outside it (``CHALLENGE_RUNNER_IN_CGROUP2_VM`` unset) they are deselected, and
tests/test_cgroup2_vm.py (marked ``rootless``) boots the guest and runs them there, where
``CHALLENGE_RUNNER_REQUIRE_CGROUP2=1`` turns their skips into failures.

``keys``, ``data_cache`` and ``packed`` (age keys, a hidden-data cache folder, a packed
archive) come from ``hidden_data``, for the ``test_data_*`` files.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
from pathlib import Path

import docker
import pytest
from hidden_data import data_cache, keys, packed  # noqa: F401  (fixtures, shared)

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "scripts" / "build-test-images.sh"
BUSYBOX_IMAGE = "challenge-runner/busybox:test"
PYTHON_IMAGE = "challenge-runner/python:bookworm"


@pytest.fixture(scope="session")
def docker_client():
    """A docker-py client for the local engine; skips the test when none answers."""
    try:
        client = docker.from_env()
        client.ping()
    except Exception as err:  # any failure to reach the engine means "no engine here"
        pytest.skip(f"no Docker engine: {err}")
    yield client
    client.close()


PODMAN_HOST = os.environ.get(
    "CHALLENGE_RUNNER_PODMAN_HOST", "unix:///run/challenge-runner-podman.sock"
)


def connect_or_skip(url: str, what: str):
    """A client for the engine at ``url`` that answers, or a skip naming ``what`` is missing."""
    try:
        client = docker.DockerClient(base_url=url)
        client.ping()
    except Exception as err:  # no such service: skip with the reason
        pytest.skip(f"no {what} at {url}: {err}")
    return client


def _lock_path() -> Path:
    # Per user: a lock file another user created in /tmp could not be opened for writing.
    return Path(tempfile.gettempdir()) / f"challenge-runner-test-images-{os.getuid()}.lock"


def _ensure_image(client, which: str, tag: str, engine: str = "docker") -> str:
    """Run the build script for ``which`` under a lock; fail the test with its output."""
    with _lock_path().open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers wait for the first builder
        done = subprocess.run(
            ["bash", str(BUILD_SCRIPT), which],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | {"TEST_IMAGE_ENGINES": engine},
        )
    if done.returncode != 0:
        pytest.fail(f"{BUILD_SCRIPT.name} {which} failed:\n{done.stdout}\n{done.stderr}")
    client.images.get(tag)  # the script's promise: the tag exists now
    return tag


@pytest.fixture(scope="session")
def busybox_image(docker_client) -> str:
    """``challenge-runner/busybox:test``: Debian's static busybox, /bin/sh and applets."""
    return _ensure_image(docker_client, "busybox", BUSYBOX_IMAGE)


@pytest.fixture(scope="session")
def python_image(docker_client) -> str:
    """``challenge-runner/python:bookworm``: Debian minbase with python3 and numpy."""
    return _ensure_image(docker_client, "python", PYTHON_IMAGE)


def gvisor_runtime(client) -> str | None:
    """The name this Docker engine registered runsc under, or None."""
    for name, runtime in sorted((client.info().get("Runtimes") or {}).items()):
        if Path(str(runtime.get("path") or "")).name == "runsc":
            return name
    return None


@pytest.fixture(
    scope="session", params=["docker", pytest.param("podman", marks=pytest.mark.podman)]
)
def engine_client(request):
    """The engine the sandbox suites run on: Docker, then rootful Podman (skips if absent);
    "gvisor" (Docker with the runsc runtime) where a suite parametrizes it (test_hostile)."""
    if request.param == "docker":
        yield request.getfixturevalue("docker_client")
        return
    if request.param == "gvisor":
        client = _gvisor_client(request.getfixturevalue("docker_client"))
        yield client
        client.close()
        return
    if request.param == "cgroup2":  # rootless Podman on cgroup v2, in the guest
        client = request.getfixturevalue("cgroup2_client")
        client.engine_name = "podman"  # the user's own store (the guest loaded the images)
        yield client
        return
    if request.param == "podman-gvisor":  # the Podman service whose runtime is runsc
        client = connect_or_skip(PODMAN_GVISOR_HOST, "Podman service under gVisor")
        client.engine_name = "podman"  # the rootful store: images as for the first service
        client.sandbox_runtime = "runsc"
        yield client
        client.close()
        return
    client = connect_or_skip(PODMAN_HOST, "Podman service")
    client.engine_name = "podman"  # for the images' build script
    yield client
    client.close()


PODMAN_GVISOR_HOST = os.environ.get(
    "CHALLENGE_RUNNER_PODMAN_GVISOR_HOST", "unix:///run/challenge-runner-podman-runsc.sock"
)
ROOTLESS_HOST = os.environ.get(
    "CHALLENGE_RUNNER_ROOTLESS_HOST", "unix:///run/challenge-runner-rootless/podman.sock"
)


@pytest.fixture(scope="session")
def rootless_client():
    """A client for rootless Podman (``scripts/podman-rootless-service.sh``); skips if absent."""
    client = connect_or_skip(ROOTLESS_HOST, "rootless Podman service")
    yield client
    client.close()


IN_CGROUP2_VM = os.environ.get("CHALLENGE_RUNNER_IN_CGROUP2_VM") == "1"
CGROUP2_HOST = os.environ.get(
    "CHALLENGE_RUNNER_CGROUP2_HOST", f"unix:///run/user/{os.getuid()}/podman/podman.sock"
)


def engine_namespace_mounts() -> str:
    """/proc/self/mounts inside this user's rootless Podman namespace (where the runner
    mounts /output's tmpfs for it)."""
    done = subprocess.run(
        ["podman", "unshare", "cat", "/proc/self/mounts"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def cgroup2_client():
    """Rootless Podman of this user on cgroup v2 (the guest of scripts/cgroup2-vm.sh)."""
    if not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        pytest.skip("this host has cgroup v1: the cgroup2 tests run in scripts/cgroup2-vm.sh")
    client = connect_or_skip(CGROUP2_HOST, "rootless Podman service")
    yield client
    client.close()


def pytest_collection_modifyitems(config, items):
    """Outside the cgroup v2 guest, leave the cgroup2 tests to it (tests/test_cgroup2_vm.py)."""
    if IN_CGROUP2_VM:
        return
    kept = [item for item in items if not item.get_closest_marker("cgroup2")]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def _gvisor_client(docker_client):
    runtime = gvisor_runtime(docker_client)
    if runtime is None:
        pytest.skip(
            "no runtime whose path is runsc is registered with the Docker engine "
            "(scripts/gvisor-runtime.sh registers it)"
        )
    client = docker.from_env()  # its own object: the attribute must not reach Docker's runs
    client.sandbox_runtime = runtime
    return client


@pytest.fixture(scope="session")
def engine_busybox(engine_client) -> str:
    engine = getattr(engine_client, "engine_name", "docker")
    return _ensure_image(engine_client, "busybox", BUSYBOX_IMAGE, engine)


@pytest.fixture(scope="session")
def engine_python(engine_client) -> str:
    engine = getattr(engine_client, "engine_name", "docker")
    return _ensure_image(engine_client, "python", PYTHON_IMAGE, engine)


_REQUIRED = {
    "podman": "CHALLENGE_RUNNER_REQUIRE_PODMAN",
    "rootless": "CHALLENGE_RUNNER_REQUIRE_ROOTLESS",
    "cgroup2": "CHALLENGE_RUNNER_REQUIRE_CGROUP2",
    "gvisor": "CHALLENGE_RUNNER_REQUIRE_GVISOR",
    "docker": "CHALLENGE_RUNNER_REQUIRE_DOCKER",
    "browser": "CHALLENGE_RUNNER_REQUIRE_BROWSER",
    "workflows": "CHALLENGE_RUNNER_REQUIRE_WORKFLOWS",
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn the skip of a required suite into a failure that says why."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    # A Podman or gVisor run of a docker-marked test answers to that requirement only.
    required = _REQUIRED
    for engine in ("podman", "gvisor", "cgroup2"):
        if item.get_closest_marker(engine):
            required = {engine: _REQUIRED[engine]}
    for marker, variable in required.items():
        if item.get_closest_marker(marker) and os.environ.get(variable) == "1":
            report.outcome = "failed"
            reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
            report.longrepr = f"{variable}=1 but this {marker} test was skipped: {reason}"
