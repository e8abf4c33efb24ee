"""Submission images: a digest-pinned ``image:`` (used if present, else pulled) or a
``build:`` of the submission's Dockerfile, checked before anything runs.

Build choices (DESIGN §5): the legacy builder with ``network_mode=none`` (RUN steps are
participant code running as root with default capabilities on the evaluation machine: no
network means no cloud metadata endpoint and nothing to exfiltrate to; participants vendor
wheels into the build context or publish a pinned ``image:`` built elsewhere), memory =
memory+swap as for runs, no build args, ``pull=False`` (base images must be local or
pinned), intermediate containers always removed, a wall-time cap enforced by the runner
(the daemon cancels a build whose client disconnects), and a runner-owned label and tag.
Build logs go to the error's maintainer ``detail``; the message says what to fix.
Secrets: no build args, no secrets mounts; docker-py forwards the runner's registry logins
(``~/.docker/config.json``) to the daemon for ``FROM`` pulls only (the legacy builder never
exposes them to RUN steps), so the job that builds must hold no registry credentials it would
not hand to the engine.

A digest-pinned image that is present locally is used as is; a fresh pull cannot be tested
offline (no registry here), so only its failure message is.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import math
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from runner.errors import ConfigError, RunnerError, SandboxError
from runner.loader.submission import PINNED
from runner.models import BuildSpec, ContainerSpec, Submission
from runner.progress import Progress
from runner.sandbox.engine import ENGINE_ERRORS, describe_engine, get_client
from runner.sandbox.spec import LABEL, parse_size

__all__ = [
    "BuildFailed",
    "ImageRef",
    "ImageRejected",
    "load_image",
    "parse_size",
    "resolve_image",
    "save_image",
]

BUILD_LABEL = "org.challenge-runner.submission"
BUILD_REPO = "challenge-runner/build"
LOG_TAIL_BYTES = 64 << 10


class BuildFailed(RunnerError):
    """The submission's Dockerfile did not build: the participant's fault (status "failed")."""


class ImageRejected(RunnerError):
    """The image breaks a sandbox rule (VOLUMEs, size): the participant's fault ("invalid")."""


@dataclass(frozen=True)
class ImageRef:
    """The image a submission runs: ``ref`` to pass to the sandbox, ``id`` to record."""

    ref: str
    id: str
    digest: str | None  # the pinned registry digest; None for local builds
    size: int


def resolve_image(
    submission: Submission,
    limits: ContainerSpec,
    *,
    client: Any = None,
    progress: Progress | None = None,
) -> ImageRef:
    """Make the submission's image available locally and check it may run.

    Raises ``SandboxError`` (pull failed, engine trouble: the platform's side), or
    ``BuildFailed`` / ``ImageRejected`` (unpinned reference, bad build context, VOLUMEs, too
    big: the participant's).
    """
    say = progress or (lambda _message: None)
    client = get_client(client)
    if submission.image is not None:
        return _pinned(client, submission, limits, say)
    if submission.build is not None:
        return _built(client, submission, limits, say)
    raise ConfigError("the submission has neither image: nor build:", path=str(submission.path))


def _check(
    client: Any, image: Any, ref: str, digest: str | None, limits: ContainerSpec
) -> ImageRef:
    """Refuse images that declare VOLUMEs or exceed ``limits.image_max_size``."""
    volumes = sorted((image.attrs.get("Config") or {}).get("Volumes") or {})
    if volumes:
        raise ImageRejected(
            f"the image declares VOLUME {', '.join(volumes)}; remove the VOLUME instructions "
            "(the sandbox allows no volumes: write results to /output)"
        )
    size = int(image.attrs.get("Size") or 0)
    if size > parse_size(limits.image_max_size):
        raise ImageRejected(
            f"the image is {size / (1 << 20):.0f} MiB, over the {limits.image_max_size} image "
            "size limit; use a smaller base image or fewer dependencies"
        )
    return ImageRef(ref=ref, id=image.id, digest=digest, size=size)


def _pinned(client: Any, submission: Submission, limits: ContainerSpec, say: Progress) -> ImageRef:
    ref = submission.image or ""
    if PINNED.match(ref) is None:
        raise ImageRejected(
            f"image {ref!r} is not pinned by digest; use name@sha256:<64 hex digits> "
            "(tags can change after review)",
            path=str(submission.path),
        )
    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        image = _pull(client, ref, say)
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine failed to look up the image", detail=str(err)
        ) from err
    return _check(client, image, ref, ref.rsplit("@", 1)[1], limits)


def _pull(client: Any, ref: str, say: Progress) -> Any:
    say(f"pulling {ref}")
    try:
        for event in client.api.pull(ref, stream=True, decode=True):
            if "error" in event:
                raise docker.errors.APIError(event["error"])
        return client.images.get(ref)
    except ENGINE_ERRORS as err:
        raise SandboxError(
            f"cannot pull image {ref}: the registry is unreachable, or the image does not "
            "exist or is private; check the reference and make the image public",
            detail=str(err),
        ) from err


def _build_context(spec: BuildSpec, limits: ContainerSpec) -> None:
    """The context must be a directory holding the Dockerfile, under the size cap."""
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


def _tag(submission: Submission) -> str:
    key = f"{submission.challenge}/{submission.participant}/{submission.name}:{submission.sha256}"
    return f"{BUILD_REPO}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class _BuildLog:
    """Consumes the daemon's build stream (in a thread) into a bounded tail."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.lines: collections.deque[str] = collections.deque()
        self.size = 0
        self.image_id: str | None = None
        self.error: str | None = None

    def add(self, text: str) -> None:
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
                self.image_id = (event.get("aux") or {}).get("ID") or self.image_id
        except Exception as err:  # a cancelled or broken stream ends the build
            self.error = self.error or f"build stream ended: {err}"

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _cancel(stream: Any) -> None:
    """Disconnect from the daemon, which then cancels the build and removes its containers.

    docker-py offers no handle to cancel a build: reach the response the stream reads from.
    """
    response = stream.gi_frame.f_locals.get("response") if stream.gi_frame else None
    sock = getattr(getattr(getattr(response, "raw", None), "connection", None), "sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)


def _cores(limits: ContainerSpec) -> str:
    count = max(1, math.ceil(limits.cpus))
    return "0" if count == 1 else f"0-{count - 1}"


def _run_build(client: Any, submission: Submission, limits: ContainerSpec, tag: str) -> _BuildLog:
    spec = submission.build
    assert spec is not None
    memory = parse_size(limits.memory)
    stream = client.api.build(
        path=str(spec.context), dockerfile=spec.dockerfile, tag=tag, decode=True,
        rm=True, forcerm=True, pull=False, network_mode="none", buildargs={},
        # The legacy builder takes no pids or CPU quota: pin RUN steps to as many cores as the
        # run may use (see the module doc for what a build can still do).
        container_limits={"memory": memory, "memswap": memory, "cpusetcpus": _cores(limits)},
        labels={LABEL: "1", BUILD_LABEL: f"{submission.challenge}/{submission.participant}"
                f"/{submission.name}"},
    )  # fmt: skip
    build = _BuildLog(stream)
    worker = threading.Thread(target=build.consume, daemon=True)
    worker.start()
    worker.join(limits.build_timeout_s)
    if worker.is_alive():
        _cancel(stream)
        worker.join(30)
        raise BuildFailed(
            f"the image build took longer than the {limits.build_timeout_s:g} s build time "
            "limit; make it faster (fewer steps, vendored dependencies)",
            detail=build.text,
        )
    return build


def _built(client: Any, submission: Submission, limits: ContainerSpec, say: Progress) -> ImageRef:
    spec = submission.build
    assert spec is not None
    _build_context(spec, limits)
    if describe_engine(client).kind == "podman":  # fail closed: its RUN steps get the network
        raise SandboxError(
            "image builds need Docker: Podman's Docker-compatible build API gives RUN steps "
            "the host's network whatever is asked; build on a Docker runner"
        )
    tag = _tag(submission)
    say(f"building the image (time limit {limits.build_timeout_s:g} s)")
    try:
        build = _run_build(client, submission, limits, tag)
        if build.error or build.image_id is None:
            reason = (build.error or "no image was produced")[:300]
            raise BuildFailed(
                f"the Dockerfile failed to build ({reason}); run `docker build` locally to fix it",
                detail=build.text,
            )
        image = client.images.get(build.image_id)
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine failed to build the image", detail=str(err)
        ) from err
    try:
        return _check(client, image, tag, None, limits)
    except ImageRejected:
        # The refusal is what matters; a build we could not remove is only disk.
        with contextlib.suppress(*ENGINE_ERRORS):
            client.images.remove(image.id, force=True)  # ours: never keep a refused build
        raise


def save_image(image: ImageRef, target: Path, *, client: Any = None) -> None:
    """Write ``image`` as a ``docker save`` tar, so a job without the build can run it.

    In CI the build (participant code running as root in RUN steps) happens in a job that
    holds no secret; the job that runs the submission on hidden inputs loads the result.
    """
    client = get_client(client)
    try:
        with target.open("wb") as out:
            for chunk in client.images.get(image.id).save(named=True):
                out.write(chunk)
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine failed to save the image", detail=str(err)
        ) from err


def load_image(archive: Path, limits: ContainerSpec, *, client: Any = None) -> ImageRef:
    """Load a ``save_image`` tar and check it as ``resolve_image`` checks a build."""
    client = get_client(client)
    if archive.stat().st_size > parse_size(limits.image_max_size) * 2:
        raise ImageRejected(f"the built image archive is over the {limits.image_max_size} limit")
    try:
        with archive.open("rb") as data:
            (image,) = client.images.load(data)
    except (ValueError, *ENGINE_ERRORS) as err:
        raise SandboxError(
            "the container engine failed to load the built image", detail=str(err)
        ) from err
    tag = image.tags[0] if image.tags else image.id
    return _check(client, image, tag, None, limits)
