"""A pids-limited cgroup for one build's RUN containers.

Docker 20.10's builder takes no pids limit, but it passes ``cgroupparent`` to every RUN
container, and a cgroup's ``pids.max`` bounds all of its descendants. So the runner makes a
fresh parent cgroup with ``pids.max`` set, builds under it, and removes it afterwards. That
needs the ``cgroupfs`` cgroup driver (the engine then places containers under the parent's
path as is) and write access to the cgroup tree, i.e. a runner with root on the engine's
host, as on self-hosted runners and here. Elsewhere (the ``systemd`` driver, a rootless
runner) the build runs without a pids cap and says so: it is the build job's own machine that
suffers, holding no secret, for at most the build time limit (DESIGN §5).

On cgroup v1 the engine makes the parent in every hierarchy (memory, cpu, blkio ...), not
only in ``pids``: all of them are removed. A runner killed mid-build cannot remove them (the
daemon ends the build and removes its containers; empty ``challenge-runner-build-*``
directories stay). Each name holds the Unix time after which its build is over whatever
happens (``<deadline>-<random>``), and every build first removes the runner's cgroups past
it, as ``runner.sandbox.reap`` does for containers: a build in progress elsewhere is never
touched, nor a cgroup that still holds a process.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["holds_processes", "pids_cgroup", "reap_cgroups"]

log = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")
PREFIX = "challenge-runner-build-"
MAX_BUILD_S = 86400.0  # the schema's maximum build_timeout_s: bounds the older, unnamed ones


@contextlib.contextmanager
def pids_cgroup(client: Any, pids: int, deadline: float, root: Path = ROOT) -> Iterator[str | None]:
    """Yield the cgroup parent to build under (``/name``), or None where none can be made.
    ``deadline`` (Unix time): after it the build is over, and its cgroups may be reaped."""
    hierarchies = _hierarchies(client, root)
    made = _make(hierarchies, pids, deadline) if hierarchies else None
    try:
        yield None if made is None else "/" + made.name
    finally:
        if made is not None:
            _remove(made, hierarchies)


def holds_processes(parent: str | None, root: Path = ROOT) -> bool:
    """Whether a RUN container of the build under ``parent`` (``pids_cgroup``'s) still has a
    process: after a cancel, the daemon may go on with a step for a while under load."""
    if parent is None:
        return False
    name = parent.lstrip("/")
    for base in (root / "pids" / name, root / name):  # cgroup v1, v2
        with contextlib.suppress(OSError):
            if any(procs.read_text().strip() for procs in base.glob("**/cgroup.procs")):
                return True
    return False


def _hierarchies(client: Any, root: Path) -> list[Path]:
    """Where a build's cgroup appears, the ``pids`` one first; empty where the runner cannot
    manage the engine's cgroups."""
    try:
        info = client.info()
    except Exception:  # the build itself reports an unreachable engine
        return []
    if info.get("CgroupDriver") != "cgroupfs":
        return []
    if str(info.get("CgroupVersion")) == "2":
        return [root]
    with contextlib.suppress(OSError):  # cpu and cpuacct are often links to one hierarchy
        others = [p for p in sorted(root.iterdir()) if p.is_dir() and not p.is_symlink()]
        return [root / "pids", *(p for p in others if p.name != "pids")]
    return []


def _make(hierarchies: list[Path], pids: int, deadline: float) -> Path | None:
    now = time.time()
    for hierarchy in hierarchies:
        reap_cgroups(hierarchy, now)
    path = hierarchies[0] / f"{PREFIX}{int(deadline)}-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(pids))
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return path


def _remove(path: Path, hierarchies: list[Path]) -> None:
    """Remove the parent once the engine has removed its containers' cgroups, then its
    twins in the other hierarchies."""
    for _ in range(40):
        if _remove_tree(path):
            break
        time.sleep(0.25)
    for hierarchy in hierarchies[1:]:
        _remove_tree(hierarchy / path.name)


def _remove_tree(path: Path) -> bool:
    """rmdir the (empty) container cgroups under ``path``, then ``path``; True once gone."""
    with contextlib.suppress(OSError):  # only succeeds once their processes are gone
        for child in [p for p in path.iterdir() if p.is_dir()]:
            child.rmdir()
    try:
        path.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _deadline(path: Path) -> float | None:
    stamp, _, rest = path.name.removeprefix(PREFIX).partition("-")
    if stamp.isdigit() and rest:
        return float(stamp)
    # Named before deadlines were (challenge-runner-build-<16 hex>): over once no build could
    # still run after its directory last changed.
    with contextlib.suppress(OSError):
        return path.stat().st_mtime + MAX_BUILD_S
    return None


def reap_cgroups(hierarchy: Path, now: float) -> list[Path]:
    """Remove the build cgroups in ``hierarchy`` that are past their deadline and hold no
    process (their containers' empty cgroups first); return those removed."""
    reaped = []
    for path in sorted(hierarchy.glob(PREFIX + "*")):
        deadline = _deadline(path)
        if deadline is None or deadline >= now or not path.is_dir():
            continue
        if _remove_tree(path):
            log.warning("removed the orphaned build cgroup %s", path)
            reaped.append(path)
    return reaped
