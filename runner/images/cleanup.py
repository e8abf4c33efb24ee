"""Remove what a build left behind: its containers and images, found by the build ID label,
and the images its bases' ONBUILD triggers committed, which carry no label of the build.

The legacy builder runs a base's ONBUILD triggers as part of ``FROM``, before the stage's
first instruction (the ``LABEL`` with the build ID that ``runner.images.policy`` writes), so
a trigger's RUN container and the image committed from it have only the base's labels. They
are this build's all the same: the build's own log names each RUN container ("Running in
<id>"), and an image records the container it was committed from. So they are found as the
unlabelled descendants of the build's bases committed from one of its containers; a build
from the same base running beside it (other containers) is never touched. When a trigger
fails, nothing labelled is ever committed on top of them, and the label alone missed them.
"""

from __future__ import annotations

import collections
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.errors import SandboxError
from runner.sandbox.engine import ENGINE_ERRORS

__all__ = ["BUILD_ID", "BuildTrace", "remove_build"]

BUILD_ID = "org.challenge-runner.build-id"
POLL_S = 0.5
_RUNNING_IN = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class BuildTrace:
    """What identifies one build's leftovers: its ID label, its bases' image IDs, and the
    RUN containers its log named (filled while the build runs)."""

    build_id: str
    bases: frozenset[str] = frozenset()
    containers: set[str] = field(default_factory=set)

    def saw(self, log_text: str) -> None:
        """Note the RUN containers a piece of the build's log names."""
        self.containers.update(match[:12] for match in _RUNNING_IN.findall(log_text))


def remove_build(
    client: Any,
    trace: BuildTrace,
    keep: str | None = None,
    settle: float = 0.0,
    busy: Callable[[], bool] = lambda: False,
) -> None:
    """Remove this build's containers and images (all but ``keep`` and its parents).

    A cancelled build may still commit steps, or start a RUN container, after the runner
    disconnected (the daemon notices late under load): with ``settle``, the clean-up goes on
    until nothing of the build has appeared, and ``busy`` (its cgroup holds a process) has
    been false, for that long.
    """
    quiet_since = time.monotonic()
    for _ in range(240):
        if _remove_once(client, trace, keep) or busy():
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= settle:
            return
        time.sleep(POLL_S)


def _remove_once(client: Any, trace: BuildTrace, keep: str | None) -> bool:
    """One pass, children first (a parent refuses removal while a child exists, so keep's
    parents stay; they go with it, in release_image). True if anything was removed."""
    mine = {"label": f"{BUILD_ID}={trace.build_id}"}
    try:
        containers = [c["Id"] for c in client.api.containers(all=True, filters=mine)]
        images = [i["Id"] for i in client.api.images(all=True, filters=mine) if i["Id"] != keep]
        images += [i for i in _triggered(client, trace) if i != keep]
    except ENGINE_ERRORS as err:
        raise SandboxError("the container engine failed to list images", detail=str(err)) from err
    removed = False
    for container in containers:
        with contextlib.suppress(*ENGINE_ERRORS):
            client.api.remove_container(container, force=True)
            removed = True
    for _ in range(len(images)):
        progress = False
        for image in list(images):
            with contextlib.suppress(*ENGINE_ERRORS):
                client.api.remove_image(image, force=True)
                images.remove(image)
                progress = removed = True
        if not images or not progress:
            break
    return removed


def _triggered(client: Any, trace: BuildTrace) -> list[str]:
    """Images ONBUILD triggers committed in this build: untagged, unlabelled descendants of
    its bases committed from one of its RUN containers (children first)."""
    if not trace.containers or not trace.bases:
        return []
    children = collections.defaultdict(list)
    for row in client.api.images(all=True):
        children[row.get("ParentId") or ""].append(row)
    found: list[str] = []
    todo = list(trace.bases)
    while todo:
        for row in children.get(todo.pop(), []):
            tagged = any(t != "<none>:<none>" for t in row.get("RepoTags") or [])
            if tagged or BUILD_ID in (row.get("Labels") or {}):
                continue  # someone's image, or a build's labelled one (found by its label)
            with contextlib.suppress(*ENGINE_ERRORS):  # gone meanwhile
                source = client.api.inspect_image(row["Id"]).get("Container") or ""
                if source[:12] in trace.containers:
                    found.append(row["Id"])
                    todo.append(row["Id"])
    return found[::-1]
