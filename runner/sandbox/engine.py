"""The container engine: connecting to it and checking it can enforce every control.

The sandbox fails closed: if the engine cannot enforce a memory, swap, pids or CPU limit, or
the configured runtime is missing (or is gVisor with fewer than 128 pids, or without
``--oci-seccomp``, without which runsc ignores the seccomp profile), or the runner cannot
cap ``/output``, or the engine is rootless but for Podman on cgroup v2 (on cgroup v1 Podman
ignores every resource limit while ``/info`` claims them; rootless Docker is untested), or
rootless Podman on cgroup v2 lacks a delegated controller or runs as another user than the
runner (which mounts ``/output``'s tmpfs in its namespace), nothing runs unless the operator
passes the explicit ``unsafe`` flag (then each gap is logged as a warning). What ``/info``
claims is only a first filter: ``verify.py`` reads back every control from each created
container before it starts.

Engines: Docker (rootful), Podman (rootful, through ``podman system service``; its
Docker-compatible API ignores the ``runtime`` asked per container, so a runtime is accepted
only when it is the service's own, ``podman --runtime NAME system service``) and Podman
rootless on cgroup v2 (``libpod.py`` creates its containers). The runner talks
to whatever ``DOCKER_HOST`` names (docker-py's rule), e.g.
``DOCKER_HOST=unix:///run/challenge-runner-podman.sock``.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

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
GPU_RUNTIMES = {"nvidia"}  # engine runtimes that serve GPU device requests (NVIDIA toolkit)
OUTPUT_CAP = "output size cap (mounting a tmpfs on the host needs root or passwordless sudo)"
GVISOR_MIN_PIDS = 128
ROOTLESS_OUTPUT_CAP = "output size cap (a rootless engine cannot see the runner's tmpfs)"
USE_ROOTFUL = "use rootful Docker or Podman, or rootless Podman on cgroup v2"
ROOTLESS_CONTROLLERS = ("memory", "pids", "cpu")  # must be delegated to a rootless engine's user
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


@dataclass(frozen=True)
class Engine:
    """What kind of engine answers: ``kind`` "docker" or "podman", rootless, cgroup version."""

    kind: str
    rootless: bool
    cgroup_version: str
    # Podman: the runtime this service gives every container (its compatible API ignores
    # the one asked per container): /libpod/info's host.ociRuntime. Docker: empty.
    runtime: str = ""
    runtime_path: str = ""
    # Podman: the cgroup controllers its user may use (/libpod/info's host.cgroupControllers;
    # rootless on cgroup v2, those delegated to the user) and the host uid it runs as (its
    # user namespace maps 0 to it).
    controllers: tuple[str, ...] = ()
    uid: int | None = None
    # Podman: the capabilities its containers may be given (/libpod/info's host.security),
    # without the CAP_ prefix; the read-back compares a container's with them.
    capabilities: frozenset[str] = frozenset()
    # The engine's compatible /info, as read for this description (the controls it claims).
    info: dict = field(default_factory=dict, compare=False, repr=False)


def _info(client: Any) -> dict:
    try:
        return client.info()
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine is not reachable; start Docker or set DOCKER_HOST",
            detail=str(err),
        ) from err


def libpod(client: Any, path: str) -> dict:
    """Podman's own API (``/libpod``), for what its Docker-compatible answers leave out."""
    try:
        answer = client.api.get(f"{client.api.base_url}/v4.0.0/libpod/{path}")
        answer.raise_for_status()
        return answer.json()
    except (*ENGINE_ERRORS, ValueError) as err:
        raise SandboxError(
            f"the Podman engine did not answer /libpod/{path.split('/')[0]}", detail=str(err)
        ) from err


def describe_engine(client: Any) -> Engine:
    """Tell Docker from Podman (``/version`` components) and rootless from rootful.

    Rootless Docker says ``name=rootless`` in ``/info``; rootless Podman does not (its
    compatible ``/info`` looks rootful and claims every limit): its own ``/libpod/info`` does.
    """
    info = _info(client)
    try:
        names = [c.get("Name", "") for c in client.version().get("Components") or []]
    except ENGINE_ERRORS as err:
        raise SandboxError("the container engine is not reachable", detail=str(err)) from err
    kind = "podman" if any("podman" in name.lower() for name in names) else "docker"
    rootless = "name=rootless" in (info.get("SecurityOptions") or [])
    cgroup = str(info.get("CgroupVersion") or "1")
    if kind != "podman":
        return Engine(kind, rootless, cgroup, info=info)
    host = libpod(client, "info").get("host") or {}
    rootless = rootless or (host.get("security") or {}).get("rootless") is not False
    cgroup = str(host.get("cgroupVersion") or cgroup).removeprefix("v")
    runtime = host.get("ociRuntime") or {}
    name, path = str(runtime.get("name") or ""), str(runtime.get("path") or "")
    uids = (host.get("idMappings") or {}).get("uidmap") or []
    uid = next((int(m["host_id"]) for m in uids if m.get("container_id") == 0), None)
    controllers = tuple(str(c) for c in host.get("cgroupControllers") or ())
    granted = str((host.get("security") or {}).get("capabilities") or "")
    caps = frozenset(c.removeprefix("CAP_") for c in granted.split(",") if c)
    return Engine(kind, rootless, cgroup, name, path, controllers, uid, caps, info)


def supports_rootless(engine: Engine) -> bool:
    """Rootless Podman on cgroup v2: the one rootless engine the runner can hold to every
    control (with the controllers delegated, and /output mounted in its namespace)."""
    return engine.rootless and engine.kind == "podman" and engine.cgroup_version == "2"


def nproc_ceiling(engine: Engine) -> int | None:
    """The highest ``nproc`` ulimit a container of this engine can get, or None (no ceiling).

    A rootless engine cannot raise RLIMIT_NPROC above its user's hard limit, which the kernel
    sizes by memory (15482 on a 4 GiB machine): crun refuses to start a container asking more
    (``setrlimit RLIMIT_NPROC: Operation not permitted``). The runner runs as that user
    (``_rootless_gaps`` checks it), so its own hard limit is the engine's.
    """
    if not engine.rootless:
        return None
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    return None if hard == resource.RLIM_INFINITY else hard


def _rootless_gaps(engine: Engine) -> list[str]:
    """What rootless Podman on cgroup v2 lacks here: delegated controllers, and what the
    runner needs to mount /output's tmpfs in its namespace (``podman unshare``)."""
    gaps = []
    lacking = [name for name in ROOTLESS_CONTROLLERS if name not in engine.controllers]
    if lacking:
        gaps.append(
            f"resource limits on a rootless podman with cgroup v2 whose user lacks the "
            f"{', '.join(lacking)} controller{'s' if len(lacking) > 1 else ''} (delegate "
            "them: Delegate=cpu memory pids in a drop-in for user@.service, see hosting.md)"
        )
    if shutil.which("podman") is None:
        gaps.append(
            "output size cap (the podman command is missing on the runner: it mounts "
            "/output's tmpfs in the rootless engine's namespace with `podman unshare`)"
        )
    elif engine.uid != os.geteuid():
        gaps.append(
            f"output size cap (the rootless engine runs as uid {engine.uid}, the runner as "
            f"uid {os.geteuid()}: run the runner as the engine's user)"
        )
    return gaps


def _engine_gaps(engine: Engine, limits: ContainerSpec) -> list[str]:
    gaps = []
    if supports_rootless(engine):
        gaps += _rootless_gaps(engine)
    elif engine.rootless and engine.cgroup_version != "2":
        gaps.append(
            f"resource limits on a rootless {engine.kind} with cgroup v1 (it ignores memory, "
            f"swap, pids and CPU limits while /info claims them; {USE_ROOTFUL})"
        )
    elif engine.rootless:
        gaps.append(
            f"resource limits on a rootless {engine.kind} with cgroup v2 (not supported: the "
            f"runner's checks that they hold are untested there; {USE_ROOTFUL})"
        )
    if engine.rootless and not supports_rootless(engine):
        gaps.append(ROOTLESS_OUTPUT_CAP)
    if engine.kind == "podman" and limits.runtime and limits.runtime != engine.runtime:
        gaps.append(
            f"runtime {limits.runtime!r} (Podman's Docker-compatible API ignores the runtime "
            f"asked per container: this service runs every container with {engine.runtime!r}; "
            f"run one started as `podman --runtime {limits.runtime} --runtime-flag oci-seccomp "
            "system service`)"
        )
    return gaps


def _is_gvisor(runtime: dict) -> bool:
    return os.path.basename(str(runtime.get("path") or "")) == "runsc"


def _oci_seccomp(args: list[str]) -> bool:
    """Whether runsc's arguments turn on ``oci-seccomp`` (Go flags: the last one wins)."""
    value = False
    for arg in args:
        name, _, text = arg.lstrip("-").partition("=")
        if name == "oci-seccomp":
            value = text in ("", "1", "t", "T", "true", "TRUE", "True")
    return value


def _gvisor_gaps(limits: ContainerSpec, runtime: dict) -> list[str]:
    gaps = []
    if limits.pids < GVISOR_MIN_PIDS:
        # gVisor's own threads count against the pids cgroup: below this it fails at start.
        gaps.append(
            f"runtime {limits.runtime!r} with pids {limits.pids} (gVisor needs a pids limit "
            f"of at least {GVISOR_MIN_PIDS}: its own threads count)"
        )
    if not _oci_seccomp(runtime.get("runtimeArgs") or []):
        # Without it runsc ignores the profile the engine reports as applied.
        gaps.append(
            f"runtime {limits.runtime!r} without --oci-seccomp (gVisor then ignores the "
            "seccomp profile: add it to the runtime's runtimeArgs in the engine's daemon.json)"
        )
    return gaps


def mount_prefix() -> list[str] | None:
    """How to run mount/umount: directly as root, through ``sudo -n``, or None (cannot)."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") is None:
        return None
    probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
    return ["sudo", "-n"] if probe.returncode == 0 else None


def missing_controls(client: Any, limits: ContainerSpec, engine: Engine | None = None) -> list[str]:
    """The controls of DESIGN §5 this engine and host cannot enforce (empty: all good).
    ``engine``: ``describe_engine(client)``, when the caller has it already."""
    engine = engine or describe_engine(client)
    info = engine.info
    # Rootless Podman's compatible /info judges by the service's own cgroup (4.3 says no swap
    # and no CPU limit with every controller delegated): its controllers say it instead.
    flags = {} if supports_rootless(engine) else _CGROUP_CONTROLS
    missing = [name for key, name in flags.items() if not info.get(key)]
    engine_gaps = _engine_gaps(engine, limits)
    missing += engine_gaps
    refused_runtime = any(gap.startswith("runtime ") for gap in engine_gaps)
    runtime = (info.get("Runtimes") or {}).get(limits.runtime or "")
    if engine.kind == "podman":  # whatever was asked, every container gets the service's
        # (its runtime flags show in no API answer: live.py checks --oci-seccomp after start)
        runtime = {"path": engine.runtime_path}
        if _is_gvisor(runtime) and limits.pids < GVISOR_MIN_PIDS:  # not even with --unsafe
            raise SandboxError(
                f"this Podman service runs every container under gVisor ({engine.runtime!r}), "
                f"which needs a pids limit of at least {GVISOR_MIN_PIDS} (its own threads "
                "count; below that its start hangs and blocks the service): raise "
                f"container.pids from {limits.pids} or use another engine"
            )
    if limits.runtime and not refused_runtime and runtime is None:
        missing.append(f"runtime {limits.runtime!r} (not installed in the engine)")
    elif runtime and _is_gvisor(runtime) and engine.kind != "podman":
        missing += _gvisor_gaps(limits, runtime)
    if not engine.rootless and mount_prefix() is None:
        missing.append(OUTPUT_CAP)
    if limits.gpus and not set(info.get("Runtimes") or {}) & GPU_RUNTIMES:
        missing.append(
            f"GPUs ({limits.gpus} asked for; the engine has no GPU runtime such as nvidia: "
            "run this challenge on a GPU runner, see runs_on)"
        )
    return missing


def check_engine(
    client: Any, limits: ContainerSpec, *, unsafe: bool = False, engine: Engine | None = None
) -> list[str]:
    """Refuse to run when a sandbox control cannot be enforced; return the gaps accepted.

    Raises ``SandboxError`` naming every missing control and the ``--unsafe`` flag, unless
    ``unsafe`` is true: then each gap is logged as a warning and returned, so the caller can
    degrade (e.g. run without the missing runtime, or with an unmounted ``/output``).
    """
    missing = missing_controls(client, limits, engine)
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
