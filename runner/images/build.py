"""Build a ``build:`` submission's Dockerfile with bounded time, memory, processes and disk,
and leave nothing behind.

The legacy builder (DESIGN §5) with ``networkmode=none`` and no build args, registry logins
or cache (``nocache``: a layer cached from another participant's RUN step would be reused
as theirs). The Dockerfile first passes ``runner.images.policy``; the daemon gets a rewritten
copy whose ``FROM`` lines name local image IDs and whose stages each start with a
``LABEL`` carrying a fresh build ID, so every image and intermediate container of this
build, and only those, can be found by that label: for the disk watch and the clean-up
(other builds run concurrently on the same engine: nothing is ever pruned globally). What a
base's ONBUILD triggers make runs before that label: ``runner.images.cleanup`` finds it
through the RUN containers the build's log names.

Bounds on RUN steps: memory = memory+swap and CPU cores as for runs; processes through a
pids-limited cgroup parent (``runner.images.cgroup``); disk by a ``fsize`` ulimit (no file
over ``image_max_size``) and a watch that cancels the build once its layers and running
container hold more than ``image_max_size`` (checked every ``DISK_POLL_S``, so a build can
overshoot by what it writes in that time); wall time by cancelling the build.
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

import docker.errors
from docker.utils.build import tar

from runner.errors import RunnerError
from runner.images.cgroup import holds_processes, pids_cgroup
from runner.images.cleanup import BUILD_ID, BuildTrace, remove_build
from runner.images.errors import BuildFailed, ImageRejected
from runner.models import BuildSpec, ContainerSpec
from runner.sandbox.engine import ENGINE_ERRORS
from runner.sandbox.spec import parse_size

__all__ = ["BUILD_ID", "DISK_POLL_S", "check_context", "run_build"]

DOCKERFILE = ".dockerfile.challenge-runner"
DISK_POLL_S = 0.5
# After a cancel: how long nothing of the build must appear, nor run in its cgroup (CI, on a
# loaded 2-core machine, saw the daemon start a RUN step more than 5 s after the last one).
SETTLE_S = 10.0
CLEANUP_S = 300.0  # the cancel's join (30 s) and remove_build (at most 240 polls of 0.5 s)
LOG_TAIL_BYTES = 64 << 10


def check_context(spec: BuildSpec, limits: ContainerSpec) -> str:
    """The Dockerfile's text, once the context is a directory under the size cap holding it."""
    context = Path(spec.context)
    dockerfile = context / spec.dockerfile
    if not context.is_dir() or context.is_symlink():
        raise ImageRejected(f"build context {context.name}/ is not a directory", path=str(context))
    inside = dockerfile.resolve().is_relative_to(context.resolve())
    if not inside or not dockerfile.is_file() or dockerfile.is_symlink():
        raise ImageRejected(
            f"build.dockerfile {spec.dockerfile!r} is not a regular file inside the context",
            path=str(context),
        )
    # docker-py holds the whole context tar in memory: cap it before sending.
    total = sum(p.stat().st_size for p in context.rglob("*") if p.is_file() and not p.is_symlink())
    if total > parse_size(limits.image_max_size):
        raise ImageRejected(
            f"build context is {total} bytes, over the {limits.image_max_size} image size "
            "limit; remove large files from it",
            path=str(context),
        )
    return dockerfile.read_text(encoding="utf-8", errors="replace")


class _BuildLog:
    """Consumes the daemon's build stream (in a thread) into a bounded tail."""

    def __init__(self, stream: Any, trace: BuildTrace) -> None:
        self.stream = stream
        self.trace = trace
        self.lines: collections.deque[str] = collections.deque()
        self.size = 0
        self.image_id: str | None = None
        self.error: str | None = None

    def add(self, text: str) -> None:
        self.trace.saw(text)
        self.lines.append(text)
        self.size += len(text)
        while self.size > LOG_TAIL_BYTES and len(self.lines) > 1:
            self.size -= len(self.lines.popleft())

    def consume(self) -> None:
        try:
            for event in self.stream:
                self.add(str(event.get("stream") or event.get("status") or ""))
                if "error" in event:
                    self.error = str(event["error"]).strip()
                    self.add(self.error)
                # "aux" is the daemon's own field: RUN output arrives only inside "stream".
                self.image_id = (event.get("aux") or {}).get("ID") or self.image_id
        except Exception as err:  # a cancelled or broken stream ends the build
            self.error = self.error or f"build stream ended: {err}"

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _cores(limits: ContainerSpec) -> str:
    count = max(1, math.ceil(limits.cpus))
    return "0" if count == 1 else f"0-{count - 1}"


def _params(limits: ContainerSpec, tag: str, labels: dict, parent: str | None) -> dict:
    memory, cap = parse_size(limits.memory), parse_size(limits.image_max_size)
    params = {
        "t": tag, "dockerfile": DOCKERFILE, "rm": True, "forcerm": True, "nocache": True,
        "networkmode": "none", "memory": memory, "memswap": memory, "cpusetcpus": _cores(limits),
        "labels": json.dumps(labels),
        "ulimits": json.dumps([{"Name": "fsize", "Soft": cap, "Hard": cap}]),
    }  # fmt: skip
    if parent:
        params["cgroupparent"] = parent  # the daemon honours it though its API docs omit it
    return params


def _post(client: Any, context: Path, dockerfile: str, params: dict) -> tuple[Any, Any]:
    """POST /build ourselves: docker-py's build() cannot pass ``cgroupparent`` or
    ``ulimits``, and would forward the runner's registry logins, which no build needs."""
    ignore = context / ".dockerignore"
    exclude = None
    if ignore.is_file():
        lines = [x.strip() for x in ignore.read_text(errors="replace").splitlines()]
        exclude = [x for x in lines if x and not x.startswith("#")]
    archive: Any = tar(str(context), exclude=exclude, dockerfile=(DOCKERFILE, dockerfile))  # type: ignore[arg-type]
    with archive:
        response = client.api._post(
            client.api._url("/build"), data=archive, params=params,
            headers={"Content-Type": "application/tar"}, stream=True, timeout=None,
        )  # fmt: skip
    try:
        client.api._raise_for_status(response)
    except docker.errors.APIError as err:
        if err.status_code != 400:
            raise
        # The daemon refused the Dockerfile itself (a parse error): the participant's to fix.
        # Its line numbers are those of the rewritten copy, not the participant's file.
        reason = re.sub(r"^dockerfile parse error line \d+: ", "", str(err.explanation or err))
        reason = reason[:300]
        raise BuildFailed(
            f"the Dockerfile failed to build ({reason}); run `docker build` locally to fix it",
            detail=str(err),
        ) from err
    return response, client.api._stream_helper(response, decode=True)


def _cancel(response: Any) -> None:
    """Disconnect from the daemon, which then cancels the build and removes its containers."""
    connection = getattr(getattr(response, "raw", None), "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def written(client: Any, trace: BuildTrace) -> int:
    """Bytes this build holds: its largest layer stack plus its containers' writes (its base's
    ONBUILD triggers' RUN containers included: they carry no label of the build)."""
    mine = {"label": f"{BUILD_ID}={trace.build_id}"}
    images = client.api.images(all=True, filters=mine)
    containers = client.api.containers(all=True, size=True, filters=mine)
    if trace.containers:
        named = client.api.containers(all=True, size=True, filters={"id": sorted(trace.containers)})
        containers += [c for c in named if BUILD_ID not in (c.get("Labels") or {})]
    top = max((int(i.get("Size") or 0) for i in images), default=0)
    return top + sum(int(c.get("SizeRw") or 0) for c in containers)


def run_build(
    client: Any,
    spec: BuildSpec,
    dockerfile: str,
    limits: ContainerSpec,
    tag: str,
    labels: dict,
    trace: BuildTrace,
) -> _BuildLog:
    """Build ``dockerfile`` (the rewritten one) in ``spec.context``; raise ``BuildFailed`` when
    it runs out of time, ``ImageRejected`` when it holds too much disk.
    ``trace.build_id`` (= ``labels[BUILD_ID]``) must be in ``dockerfile``."""
    # After the time limit, the cancel and the clean-up below end within CLEANUP_S.
    deadline = time.time() + limits.build_timeout_s + CLEANUP_S
    with pids_cgroup(client, limits.pids, deadline) as parent:
        response, stream = _post(client, Path(spec.context), dockerfile,
                                 _params(limits, tag, labels, parent))  # fmt: skip
        build = _BuildLog(stream, trace)
        worker = threading.Thread(target=build.consume, daemon=True)
        worker.start()
        stop = _watch(client, worker, limits, trace)
        if stop is not None:
            _cancel(response)
            worker.join(30)
            remove_build(client, trace, settle=SETTLE_S, busy=lambda: holds_processes(parent))
            stop.detail = f"{stop.detail}\n{build.text}"
            raise stop
    return build


def _watch(
    client: Any, worker: threading.Thread, limits: ContainerSpec, trace: BuildTrace
) -> RunnerError | None:
    """Wait for the build; return the error that must stop it (None once it ended)."""
    deadline = time.monotonic() + limits.build_timeout_s
    cap = parse_size(limits.image_max_size)
    while worker.is_alive():
        if time.monotonic() > deadline:
            return BuildFailed(
                f"the image build took longer than the {limits.build_timeout_s:g} s build "
                "time limit; make it faster (fewer steps, vendored dependencies)",
                detail=f"cancelled after {limits.build_timeout_s:g} s",
            )
        with contextlib.suppress(*ENGINE_ERRORS):  # a failed look is retried next round
            held = written(client, trace)
            if held > cap:
                return ImageRejected(
                    f"the image build wrote more than the {limits.image_max_size} image size "
                    "limit; use a smaller base image or fewer dependencies",
                    detail=f"cancelled holding {held} bytes",
                )
        worker.join(DISK_POLL_S)
    return None
