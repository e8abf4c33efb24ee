"""The typed results the evaluation steps pass on, and the steps before scoring.

``prepare`` says what is evaluated (the cache key), ``build`` builds a ``build:``
submission's image (a job with no secret in CI), ``ingest`` obtains predictions (the
committed file, or a sandboxed run on the hidden *inputs*). Each returns a frozen
``JsonData`` value: the local chain keeps it in memory, the CI chain writes it as an
artifact (``build.json``, ``ingest.json``) and reads it back in the next job.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import RunnerError
from runner.models import Challenge, Submission
from runner.progress import Progress
from runner.serial import JsonData

if TYPE_CHECKING:
    from runner.github.event import PullRequestEvent
    from runner.images import ImageRef

OK = "ok"  # a step that went well; anything else is the record's final status


def runner_version() -> str:
    from runner import __version__

    return __version__


@dataclass(frozen=True)
class Context(JsonData):
    """Where the evaluation comes from: the pull request in CI, empty locally."""

    commit: str | None = None
    pull_request: int | None = None
    run_url: str | None = None
    user_id: int | None = None

    @classmethod
    def from_event(cls, event: PullRequestEvent | None) -> Context:
        if event is None:
            return cls()
        return cls(event.head_sha, event.number, event.run_url, event.author_id)


@dataclass(frozen=True)
class Prepared(JsonData):
    """What is evaluated: the submitted artifact against this data, by this runner."""

    artifact_sha256: str
    data_sha256: str
    cache_key: str
    # A predictions submission's file, hashed here once for the key; the score step puts
    # this digest in the record instead of reading the file again.
    predictions_sha256: str | None = None


@dataclass(frozen=True)
class Built(JsonData):
    """The build step's outcome: ``ok``, ``skipped`` (nothing to build) or a final status."""

    status: str
    message: str = ""
    detail: str = ""
    seconds: float | None = None


@dataclass(frozen=True)
class Ingested(JsonData):
    """What ingest produced: a predictions file, or the reason there is none."""

    status: str  # "ok" or a final status: failed, timeout, oom, invalid, error
    message: str = ""
    detail: str = ""
    predictions: Path | None = None
    image_digest: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def submitted_sha256(submission: Submission) -> str:
    """The digest of what was submitted: the predictions file's or code's sha256, the
    pinned image reference, or the build context's tree sha256."""
    from runner.data import file_sha256, tree_sha256

    if submission.predictions is not None:
        return file_sha256(submission.predictions)
    if submission.code is not None:
        code = submission.code
        return tree_sha256(code) if code.is_dir() else file_sha256(code)
    if submission.image is not None:
        return submission.image
    assert submission.build is not None  # the loader guarantees one of the kinds
    return tree_sha256(submission.build.context)


def artifact_sha256(submission: Submission, submitted: str | None = None) -> str:
    """What identifies the submitted thing, for the cache key (with the manifest);
    ``submitted`` is ``submitted_sha256(submission)`` when the caller has it already."""
    submitted = submitted or submitted_sha256(submission)
    return hashlib.sha256(f"{submission.sha256}\n{submitted}".encode()).hexdigest()


def evaluation_key(challenge: Challenge, data_sha256: str, artifact: str) -> str:
    """The cache key: the one place it is built (challenge, data, artifact, runner)."""
    from runner.records import cache_key

    return cache_key(challenge.sha256, data_sha256, artifact, runner_version())


def prepare(challenge: Challenge, submission: Submission, data_sha256: str) -> Prepared:
    """Key the evaluation of ``submission`` against the hidden data ``data_sha256``."""
    submitted = submitted_sha256(submission)  # reads the predictions file or build context
    artifact = artifact_sha256(submission, submitted)
    key = evaluation_key(challenge, data_sha256, artifact)
    predictions = submitted if submission.predictions is not None else None
    return Prepared(artifact, data_sha256, key, predictions)


def build(
    challenge: Challenge, submission: Submission, *, progress: Progress | None = None
) -> tuple[Built, ImageRef | None]:
    """Build a ``build:`` submission's image; other kinds have nothing to build.

    Runs participant code (RUN steps): in CI this happens in a job that holds no secret.
    """
    if submission.kind != "build":
        return Built("skipped", f"a {submission.kind} submission: nothing to build"), None
    start = time.monotonic()
    got, image = _resolve(challenge, submission, progress)
    return Built(got.status, got.message, got.detail, time.monotonic() - start), image


def _resolve(
    challenge: Challenge, submission: Submission, progress: Progress | None
) -> tuple[Ingested, ImageRef | None]:
    """Pull or build the submission's image; a failure is the status it ends in."""
    from runner.images import BuildFailed, ImageRejected, resolve_image

    try:
        return Ingested(OK), resolve_image(submission, challenge.container, progress=progress)
    except BuildFailed as err:
        return Ingested("failed", err.message, err.detail or ""), None
    except ImageRejected as err:
        return Ingested("invalid", err.message, err.detail or ""), None
    except RunnerError as err:
        return Ingested("error", err.message, err.detail or str(err)), None


def ingest(
    challenge: Challenge,
    submission: Submission,
    inputs: Path,
    work_dir: Path,
    *,
    built: Built | None = None,
    image: ImageRef | None = None,
    unsafe: bool = False,
    progress: Progress | None = None,
    public_inputs: bool = False,
    now: datetime | None = None,
) -> Ingested:
    """Obtain predictions: the committed file, or a sandboxed run on the hidden inputs.

    ``built`` and ``image`` are the build step's outcome; without an image the submission's
    image is pulled (or built) here. ``public_inputs`` (sample inputs, the caller's own
    data) lets the message name the exact exit code, which hidden inputs never do. An image
    the runner built or loaded is removed once run. A code submission runs through the
    challenge's ingestion program on the inputs of the phase at ``now``; its "predictions"
    are a zip of all it wrote.
    """
    if submission.kind == "predictions":
        return Ingested(OK, predictions=submission.predictions)
    if submission.kind == "code":
        return _run_code(challenge, submission, inputs, work_dir, now, unsafe, progress,
                         public_inputs)  # fmt: skip
    if built is not None and built.status not in (OK, "skipped"):
        return Ingested(built.status, built.message, built.detail)
    timings = {"image": built.seconds} if built and built.seconds is not None else {}
    if image is None:
        start = time.monotonic()
        refused, image = _resolve(challenge, submission, progress)
        if image is None:
            return refused
        timings["image"] = time.monotonic() - start
    from runner.images import release_image

    try:
        return _run(
            challenge, submission, inputs, work_dir, image, timings, unsafe, progress, public_inputs
        )
    finally:
        release_image(image)


def _run_code(
    challenge: Challenge,
    submission: Submission,
    inputs: Path,
    work_dir: Path,
    now: datetime | None,
    unsafe: bool,
    progress: Progress | None,
    public_inputs: bool,
) -> Ingested:
    from runner.program.ingestion import run_code

    outcome = run_code(
        challenge, submission, inputs, work_dir, now=now, unsafe=unsafe, progress=progress,
        public_inputs=public_inputs,
    )  # fmt: skip
    return Ingested(
        outcome.status,
        outcome.message,
        outcome.detail,
        outcome.predictions,
        outcome.image_id,
        {"run": outcome.duration_s},
    )


def _run(
    challenge: Challenge,
    submission: Submission,
    inputs: Path,
    work_dir: Path,
    image: ImageRef,
    timings: dict[str, float],
    unsafe: bool,
    progress: Progress | None,
    public_inputs: bool,
) -> Ingested:
    from runner.sandbox import run_submission

    outcome = run_submission(
        image.ref,
        submission.command,
        input_dir=inputs,
        submission_dir=submission.folder,
        work_dir=work_dir,
        limits=challenge.container,
        unsafe=unsafe,
        progress=progress,
        public_inputs=public_inputs,
    )
    return Ingested(
        outcome.status,
        outcome.message,
        outcome.detail,
        outcome.predictions,
        image.digest or image.id,
        {**timings, "run": outcome.duration_s},
    )
