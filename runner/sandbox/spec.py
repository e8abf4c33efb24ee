"""Pure pieces of the sandbox: sizes, labels, and the container's arguments (DESIGN §5).

Everything here is a function of data, so the controls can be read (and tested) without an
engine: :func:`container_kwargs` is the single place that decides how a participant
container is locked down.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from docker.types import DeviceRequest, LogConfig, Ulimit

from runner.errors import ConfigError
from runner.models import ContainerSpec
from runner.sandbox.seccomp import security_opt

# Every container and image the runner creates carries this label, so cleanup and tests can
# find exactly the runner's own resources and never touch anyone else's.
LABEL = "org.challenge-runner.sandbox"
RUN_LABEL = "org.challenge-runner.run"
# Unix time after which the container is an orphan (its runner was killed): ``reap.py``
# removes any container of LABEL, and any /output mount, past its deadline.
DEADLINE_LABEL = "org.challenge-runner.deadline"
SANDBOX_USER = "65534:65534"  # nobody:nogroup; never root, whatever the image says
LOG_MAX_SIZE = "1m"  # the json-file log is truncated past this: 1 GB of stdout stays 1 MB
NOFILE = 1024
TMP_MOUNT_OPTIONS = "rw,nosuid,nodev,noexec"
# RLIMIT_NPROC counts every process of uid 65534 on the host (all concurrent runs, and any
# host service running as nobody), so it cannot be the per-run cap (pids_limit is). It is
# set explicitly because Podman otherwise asks for 1048576, which fails to start where the
# engine lacks CAP_SYS_RESOURCE; sized for this many concurrent runs at their pids limit,
# and never above what the engine can grant (``engine.nproc_ceiling``: a rootless engine's).
NPROC_RUNS = 64
# Podman mounts these as unsized, exec tmpfs when the root is read-only: give them the /tmp
# treatment so the verification (which refuses any tmpfs not asked for) sees them asked.
PODMAN_TMPFS = ("/run", "/var/tmp")  # noqa: S108 (in the container)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str | int) -> int:
    """Bytes in a Docker-style size: ``"2g"`` -> 2147483648 (binary units, like Docker).

    Accepts an integer, or a number with an optional unit k, m, g, t (optionally followed by
    ``b`` or ``ib``). Raises ``ConfigError`` naming the value otherwise.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        if text > 0:
            return text
    elif isinstance(text, str) and (match := _SIZE.match(text)):
        value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
        if value > 0:
            return value
    raise ConfigError(f"invalid size {text!r}: use a positive number with a unit, e.g. 512m or 2g")


@dataclass(frozen=True)
class Layout:
    """Where the three mounts appear in the container (the modes never change)."""

    input: str = "/input"  # read-only
    submission: str = "/submission"  # read-only
    output: str = "/output"  # read-write, size-capped


SANDBOX_LAYOUT = Layout()
# Codabench's compute worker layout, which scoring programs may hard-code (runner.program).
CODABENCH_LAYOUT = Layout("/app/input", "/app/program", "/app/output")


def _mounts(input_dir: Path, submission_dir: Path | None, output_dir: Path, layout: Layout) -> dict:
    """The only host paths a container sees."""
    volumes = {
        str(input_dir): {"bind": layout.input, "mode": "ro"},
        str(output_dir): {"bind": layout.output, "mode": "rw"},
    }
    if submission_dir is not None:
        volumes[str(submission_dir)] = {"bind": layout.submission, "mode": "ro"}
    return volumes


def container_kwargs(
    image: str,
    command: Sequence[str] | None,
    limits: ContainerSpec,
    *,
    input_dir: Path,
    submission_dir: Path | None,
    output_dir: Path,
    run_id: str,
    deadline: int,
    engine_kind: str = "docker",
    layout: Layout = SANDBOX_LAYOUT,
    nproc_max: int | None = None,
) -> dict:
    """Arguments for ``client.containers.create``: every control of DESIGN §5, nothing else.

    ``deadline`` (Unix time) is when an orphan of this run may be reaped; ``engine_kind``
    ("docker" or "podman") picks the form of the seccomp profile and Podman's extra tmpfs;
    ``nproc_max`` is the highest nproc ulimit the engine can grant (None: no ceiling).
    """
    memory = parse_size(limits.memory)
    tmp = parse_size(limits.tmp_size)
    # fsize caps any single file the container writes (also on /tmp and /dev/shm); the mounts'
    # own sizes cap the totals.
    fsize = max(parse_size(limits.output_limit), tmp)
    nproc = limits.pids * NPROC_RUNS
    nproc = nproc if nproc_max is None else min(nproc, nproc_max)
    tmpfs = {"/tmp": f"{TMP_MOUNT_OPTIONS},size={tmp}"}  # noqa: S108 (in the container)
    if engine_kind == "podman":
        tmpfs |= {path: f"{TMP_MOUNT_OPTIONS},size={tmp}" for path in PODMAN_TMPFS}
    return {
        "image": image,
        "command": list(command) if command else None,
        "labels": {LABEL: "1", RUN_LABEL: run_id, DEADLINE_LABEL: str(deadline)},
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges", security_opt(engine_kind)],
        "user": SANDBOX_USER,
        "pids_limit": limits.pids,
        "mem_limit": memory,
        "memswap_limit": memory,  # no swap: without it the container may swap as much again
        "nano_cpus": int(limits.cpus * 1e9),
        "tmpfs": tmpfs,
        "shm_size": tmp,  # /dev/shm is the other writable tmpfs; cap it like /tmp
        "ulimits": [
            Ulimit(name="fsize", soft=fsize, hard=fsize),
            Ulimit(name="nofile", soft=NOFILE, hard=NOFILE),
            Ulimit(name="core", soft=0, hard=0),
            Ulimit(name="nproc", soft=nproc, hard=nproc),
        ],
        "log_config": LogConfig(
            type=LogConfig.types.JSON, config={"max-size": LOG_MAX_SIZE, "max-file": "1"}
        ),
        "environment": {},  # nothing from the host: no tokens, no proxies
        "use_config_proxy": False,  # docker-py would inject ~/.docker/config.json proxies
        "init": True,  # reap zombies and forward signals
        "runtime": limits.runtime,
        "volumes": _mounts(input_dir, submission_dir, output_dir, layout),
        "hostname": "sandbox",
        "privileged": False,
    } | _gpus(limits.gpus)


def _gpus(count: int) -> dict:
    """A device request for ``count`` GPUs (check_engine made sure a GPU runtime serves it)."""
    if not count:
        return {}
    return {"device_requests": [DeviceRequest(count=count, capabilities=[["gpu"]])]}
