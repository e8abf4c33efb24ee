"""Submission images: a digest-pinned ``image:`` (used if present, else pulled) or a
``build:`` of the submission's Dockerfile (``runner.images.build``), checked before
anything runs, and removed once done (``release_image``) when the runner made it.

Build choices (DESIGN §5): the legacy builder with ``networkmode=none`` (RUN steps are
participant code running as root with default capabilities on the evaluation machine: no
network means no cloud metadata endpoint and nothing to exfiltrate to; participants vendor
wheels into the build context or publish a pinned ``image:`` built elsewhere), a Dockerfile
policy applied before the daemon sees it (``runner.images.policy``: no remote sources, bases
resolved here), memory = memory+swap, pids and disk bounds as for runs, no build args, no
registry logins, a wall-time cap, and a runner-owned label and tag. Build logs go to the
error's maintainer ``detail``; the message says what to fix.

A digest-pinned image that is present locally is used as is; a fresh pull cannot be tested
offline (no registry here), so only its failure message is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from runner.errors import ConfigError, SandboxError
from runner.images.bases import BUILD_LABEL, BUILD_REPO, resolve_bases
from runner.images.build import BUILD_ID, check_context, run_build
from runner.images.cleanup import BuildTrace, remove_build
from runner.images.errors import BuildFailed, ImageRejected
from runner.images.policy import Refused, check, rewrite
from runner.loader.submission import PINNED
from runner.models import BuildSpec, ContainerSpec, Submission
from runner.progress import Progress
from runner.sandbox.engine import ENGINE_ERRORS, describe_engine, get_client
from runner.sandbox.spec import LABEL, parse_size

__all__ = ["ImageRef", "load_image", "release_image", "resolve_image", "save_image"]


@dataclass(frozen=True)
class ImageRef:
    """The image a submission runs: ``ref`` to pass to the sandbox, ``id`` to record."""

    ref: str
    id: str
    digest: str | None  # the pinned registry digest; None for local builds
    size: int
    owned: bool = False  # built or loaded by the runner: ``release_image`` removes it


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
    client: Any,
    image: Any,
    ref: str,
    digest: str | None,
    limits: ContainerSpec,
    owned: bool = False,
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
    return ImageRef(ref=ref, id=image.id, digest=digest, size=size, owned=owned)


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


def submission_key(submission: Submission) -> str:
    return f"{submission.challenge}/{submission.participant}/{submission.name}"


def _tag(submission: Submission) -> str:
    key = f"{submission.challenge}/{submission.participant}/{submission.name}:{submission.sha256}"
    return f"{BUILD_REPO}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _built(client: Any, submission: Submission, limits: ContainerSpec, say: Progress) -> ImageRef:
    spec = submission.build
    assert spec is not None
    text = check_context(spec, limits)
    where = str(Path(spec.context).name + "/" + spec.dockerfile)
    try:
        escape, instructions, stages = check(text, where)
        if describe_engine(client).kind == "podman":  # fail closed: RUN steps get the network
            raise SandboxError(
                "image builds need Docker: Podman's Docker-compatible build API gives RUN steps "
                "the host's network whatever is asked; build on a Docker runner"
            )
        bases = resolve_bases(
            client, stages, limits.base_images, lambda ref: _pull(client, ref, say), where
        )
    except Refused as err:
        raise ImageRejected(err.message, path=str(Path(spec.context) / spec.dockerfile)) from err
    build_id, key = uuid.uuid4().hex, submission_key(submission)
    labels = {LABEL: "1", BUILD_ID: build_id, BUILD_LABEL: key}
    # Every intermediate image and container carries these too (the build params' labels
    # reach the final image only): the clean-up and the disk watch find them by build ID.
    stage_label = f"{BUILD_ID}={build_id} {BUILD_LABEL}={json.dumps(key)}"
    dockerfile = rewrite(escape, instructions, bases, stage_label)
    say(f"building the image (time limit {limits.build_timeout_s:g} s)")
    trace = BuildTrace(build_id, frozenset(bases.values()))
    image = None
    try:
        image = _run(client, spec, dockerfile, limits, _tag(submission), labels, trace)
        # Run by ID: the tag is shared by every build of this submission (tests and CI
        # retries build it concurrently) and would name whichever build finished last.
        return _check(client, image, image.id, None, limits, owned=True)
    except ImageRejected:
        if image is not None:  # ours: never keep a refused build
            release_image(ImageRef(image.id, image.id, None, 0, owned=True), client=client)
            image = None
        raise
    finally:
        remove_build(client, trace, keep=image.id if image is not None else None)


def _run(
    client: Any,
    spec: BuildSpec,
    dockerfile: str,
    limits: ContainerSpec,
    tag: str,
    labels: dict,
    trace: BuildTrace,
) -> Any:
    try:
        build = run_build(client, spec, dockerfile, limits, tag, labels, trace)
        if build.error or build.image_id is None:
            reason = (build.error or "no image was produced")[:300]
            raise BuildFailed(
                f"the Dockerfile failed to build ({reason}); run `docker build` locally to fix it",
                detail=build.text,
            )
        return client.images.get(build.image_id)
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine failed to build the image", detail=str(err)
        ) from err


def release_image(image: ImageRef | None, *, client: Any = None) -> None:
    """Remove an image the runner built or loaded (and its untagged parents) once done.

    Only ``owned`` images: their ID includes a fresh build ID, so no one else's image can
    share it. A removal that fails only costs disk: it never hides the evaluation's outcome.
    """
    if image is None or not image.owned:
        return
    with contextlib.suppress(*ENGINE_ERRORS):
        get_client(client).images.remove(image.id, force=True)


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
    tag = image.id  # by ID, as for builds
    owned = BUILD_ID in (image.labels or {})  # a runner build: its ID is unique to it
    try:
        return _check(client, image, tag, None, limits, owned=owned)
    except ImageRejected:
        release_image(ImageRef(tag, image.id, None, 0, owned=owned), client=client)
        raise
