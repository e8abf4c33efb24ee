"""The container engine: connecting to it and checking it can enforce every control.

The sandbox fails closed: if the engine cannot enforce a memory, swap, pids or CPU limit, or
the configured runtime is missing, or the runner cannot cap ``/output``, nothing runs unless
the operator passes the explicit ``unsafe`` flag (then each gap is logged as a warning).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess

import docker
import docker.errors
import requests.exceptions

from runner.errors import SandboxError
from runner.models import ContainerSpec

log = logging.getLogger(__name__)

# docker info flag -> the control it stands for, as named in messages
_CGROUP_CONTROLS = {
    "MemoryLimit": "memory limit",
    "SwapLimit": "swap limit (memory+swap)",
    "PidsLimit": "pids limit",
    "CpuCfsQuota": "CPU limit (CFS quota)",
}
OUTPUT_CAP = "output size cap (mounting a tmpfs on the host needs root or passwordless sudo)"
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


def get_client(client=None):
    """``client`` itself, or a client from the environment (DOCKER_HOST etc.)."""
    if client is not None:
        return client
    try:
        return docker.from_env()
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine is not reachable; start Docker or set DOCKER_HOST",
            detail=str(err),
        ) from err


def mount_prefix() -> list[str] | None:
    """How to run mount/umount: directly as root, through ``sudo -n``, or None (cannot)."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return None
    probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
    return ["sudo", "-n"] if probe.returncode == 0 else None


def missing_controls(client, limits: ContainerSpec) -> list[str]:
    """The controls of DESIGN §5 this engine and host cannot enforce (empty: all good)."""
    try:
        info = client.info()
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine is not reachable; start Docker or set DOCKER_HOST",
            detail=str(err),
        ) from err
    missing = [name for key, name in _CGROUP_CONTROLS.items() if not info.get(key)]
    if limits.runtime and limits.runtime not in (info.get("Runtimes") or {}):
        missing.append(f"runtime {limits.runtime!r} (not installed in the engine)")
    if mount_prefix() is None:
        missing.append(OUTPUT_CAP)
    return missing


def check_engine(client, limits: ContainerSpec, *, unsafe: bool = False) -> list[str]:
    """Refuse to run when a sandbox control cannot be enforced; return the gaps accepted.

    Raises ``SandboxError`` naming every missing control and the ``--unsafe`` flag, unless
    ``unsafe`` is true: then each gap is logged as a warning and returned, so the caller can
    degrade (e.g. run without the missing runtime, or with an unmounted ``/output``).
    """
    missing = missing_controls(client, limits)
    if missing and not unsafe:
        raise SandboxError(
            "the container engine cannot enforce: "
            + "; ".join(missing)
            + ". Fix the host (cgroup controllers, runtime, privileges) or pass --unsafe "
            "to run without these controls"
        )
    for name in missing:
        log.warning("running WITHOUT %s (unsafe mode)", name)
    return missing
