"""Shared fixtures: the Docker engine and the offline test images.

``docker_client`` skips (with the engine's error as the reason) where no engine answers.
Where the engine or Chromium must be there (CI sets ``CHALLENGE_RUNNER_REQUIRE_DOCKER=1``
and ``CHALLENGE_RUNNER_REQUIRE_BROWSER=1``), a skipped ``docker`` or ``browser`` test is
reported as a failure instead: a suite that silently skipped is not a suite that passed.
``busybox_image`` and ``python_image`` build their image once per session with
``scripts/build-test-images.sh`` (cached by tag, so usually instant); a file lock keeps
parallel pytest-xdist workers from building the same image twice.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
from pathlib import Path

import docker
import pytest

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


def _ensure_image(client, which: str, tag: str) -> str:
    """Run the build script for ``which`` under a lock; fail the test with its output."""
    lock_path = Path(tempfile.gettempdir()) / "challenge-runner-test-images.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers wait for the first builder
        done = subprocess.run(
            ["bash", str(BUILD_SCRIPT), which], capture_output=True, text=True, check=False
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


_REQUIRED = {
    "docker": "CHALLENGE_RUNNER_REQUIRE_DOCKER",
    "browser": "CHALLENGE_RUNNER_REQUIRE_BROWSER",
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn the skip of a required suite into a failure that says why."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    for marker, variable in _REQUIRED.items():
        if item.get_closest_marker(marker) and os.environ.get(variable) == "1":
            report.outcome = "failed"
            reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
            report.longrepr = f"{variable}=1 but this {marker} test was skipped: {reason}"
