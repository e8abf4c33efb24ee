"""A pids-limited cgroup for one build's RUN containers.

Docker 20.10's builder takes no pids limit, but it passes ``cgroupparent`` to every RUN
container, and a cgroup's ``pids.max`` bounds all of its descendants. So the runner makes a
fresh parent cgroup with ``pids.max`` set, builds under it, and removes it afterwards. That
needs the ``cgroupfs`` cgroup driver (the engine then places containers under the parent's
path as is) and write access to the cgroup tree, i.e. a runner with root on the engine's
host, as on self-hosted runners and here. Elsewhere (the ``systemd`` driver, a rootless
runner) the build runs without a pids cap and says so: it is the build job's own machine that
suffers, holding no secret, for at most the build time limit (DESIGN §5).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["pids_cgroup"]

ROOT = Path("/sys/fs/cgroup")


@contextlib.contextmanager
def pids_cgroup(client: Any, pids: int, root: Path = ROOT) -> Iterator[str | None]:
    """Yield the cgroup parent to build under (``/name``), or None where none can be made."""
    made = _make(client, pids, root)
    try:
        yield None if made is None else "/" + made.name
    finally:
        if made is not None:
            _remove(made)


def _make(client: Any, pids: int, root: Path) -> Path | None:
    try:
        info = client.info()
    except Exception:  # the build itself reports an unreachable engine
        return None
    if info.get("CgroupDriver") != "cgroupfs":
        return None
    base = root if str(info.get("CgroupVersion")) == "2" else root / "pids"
    path = base / f"challenge-runner-build-{uuid.uuid4().hex[:16]}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(pids))
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return path


def _remove(path: Path) -> None:
    """Remove the parent once the engine has removed its containers' cgroups."""
    for _ in range(40):
        for child in [p for p in path.iterdir() if p.is_dir()]:
            with contextlib.suppress(OSError):
                child.rmdir()  # only succeeds once its processes are gone
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.25)
