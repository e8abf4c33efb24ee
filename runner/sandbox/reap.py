"""Reap what a killed runner left behind: containers and ``/output`` mounts past their deadline.

A runner killed with ``kill -9`` cannot remove its container (still running, no deadline)
nor unmount its ``/output`` tmpfs (which may hold output of a run on hidden inputs). Each
container carries ``DEADLINE_LABEL`` and each tmpfs is mounted with the source name
``challenge-runner-output@<deadline>``; the deadline is the Unix time after which the runner
that made them would have removed them (time limit plus the kill wait plus a margin). Every
sandbox run calls :func:`reap_expired` first, so the next command that runs containers
cleans up. Only the runner's own label and mount name are touched, and only past the
deadline, so runs of other runners in progress are never disturbed. Under rootless Podman the
tmpfs are in the engine's namespace (``output._unshared_tmpfs``): the mount table is read,
and the mounts unmounted, there (``podman unshare``).
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
from pathlib import Path
from typing import Any

import docker.errors

from runner.sandbox.engine import ENGINE_ERRORS
from runner.sandbox.output import MOUNT_SOURCE, UNSHARE, unmount
from runner.sandbox.spec import DEADLINE_LABEL, LABEL

log = logging.getLogger(__name__)


def _deadline(text: str | None) -> int | None:
    try:
        return int(text or "")
    except ValueError:
        return None


def reap_containers(client: Any, now: float) -> list[str]:
    """Remove the runner's containers whose deadline has passed; return their ids."""
    reaped = []
    # The low-level list: containers.list() inspects each one, and fails on any container
    # removed meanwhile (other runs come and go all the time).
    found = client.api.containers(all=True, filters={"label": [LABEL, DEADLINE_LABEL]})
    for container in found:
        deadline = _deadline((container.get("Labels") or {}).get(DEADLINE_LABEL))
        if deadline is None or deadline >= now:
            continue
        with contextlib.suppress(docker.errors.NotFound):  # another runner reaped it first
            client.api.remove_container(container["Id"], force=True, v=True)
            log.warning("removed orphaned sandbox container %s", container["Id"][:12])
            reaped.append(container["Id"])
    return reaped


def _mounts(prefix: list[str], mounts_file: Path) -> str:
    """The mount table where the runner's tmpfs live: rootless Podman's namespace for
    ``UNSHARE`` (a runner killed with its helper leaves the tmpfs there), else the host's."""
    if prefix != UNSHARE:
        return mounts_file.read_text()
    try:
        done = subprocess.run(
            [*UNSHARE, "cat", "/proc/self/mounts"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("could not look for orphaned /output mounts: %s", err)
        return ""
    if done.returncode != 0:
        log.warning("could not look for orphaned /output mounts: %s", done.stderr.strip())
        return ""
    return done.stdout


def _expired_mounts(now: float, table: str) -> list[Path]:
    expired = []
    for line in table.splitlines():
        source, target, *_ = line.split()
        name, _, deadline = source.partition("@")
        if name == MOUNT_SOURCE and (when := _deadline(deadline)) is not None and when < now:
            # /proc/mounts escapes spaces and the like as octal; temp dir names have none
            expired.append(Path(target))
    return expired


def reap_mounts(prefix: list[str] | None, now: float, mounts: Path) -> list[Path]:
    """Unmount the expired ``/output`` tmpfs and remove their (then empty) directories.
    ``prefix``: how the runner mounts (``UNSHARE``: in rootless Podman's namespace)."""
    if prefix is None:  # cannot unmount: nothing of ours can be mounted either
        return []
    reaped = []
    for path in _expired_mounts(now, _mounts(prefix, mounts)):
        unmount(path, prefix)
        with contextlib.suppress(OSError):
            path.rmdir()
        log.warning("unmounted orphaned /output %s", path)
        reaped.append(path)
    return reaped


def reap_expired(
    client: Any, prefix: list[str] | None, mounts: Path = Path("/proc/mounts")
) -> None:
    """Reap both kinds of orphan; a failure here is logged, never fatal to the new run."""
    now = time.time()
    try:
        reap_containers(client, now)
    except ENGINE_ERRORS as err:
        log.warning("could not look for orphaned sandbox containers: %s", err)
    reap_mounts(prefix, now, mounts)
