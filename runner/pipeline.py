"""One evaluation, end to end: prepare -> ingest -> score -> record (DESIGN §3).

``ingest`` runs participant code in the sandbox on hidden *inputs* only; ``score`` compares
predictions with the hidden *truth*. In CI they run as separate jobs; locally ``evaluate``
chains them on one machine. Every evaluation that starts ends in a record with a status: a
participant's problem is ``failed``/``timeout``/``oom``/``invalid`` with a safe message, the
platform's is ``error`` (never counted against limits).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from runner import __version__
from runner.errors import RunnerError
from runner.models import Challenge, Provenance, Result, Submission

Progress = Callable[[str], None]


class LimitReached(RunnerError):
    """The participant has used their evaluations; the message says when they may submit."""


@dataclass(frozen=True)
class Context:
    """Where the evaluation comes from: filled in by the GitHub workflow, empty locally."""

    commit: str | None = None
    pull_request: int | None = None
    run_url: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Options:
    results_dir: Path
    data_dir: Path | None = None  # a local hidden-data folder (inputs/ + truth.csv)
    cache_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: datetime | None = None
    unsafe: bool = False  # run even if the engine cannot enforce a control
    force: bool = False  # evaluate again even when a record with the same inputs exists
    enforce_limits: bool = True
    context: Context = field(default_factory=Context)
    progress: Progress | None = None


@dataclass(frozen=True)
class Ingested:
    """What ingest produced: a predictions file, or the reason there is none."""

    status: str  # "ok" or a final status: failed, timeout, oom, invalid, error
    message: str = ""
    detail: str = ""
    predictions: Path | None = None
    image_digest: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    result: Result
    path: Path | None  # the record written, None when served from the cache
    cached: bool = False


def _say(options: Options, message: str) -> None:
    if options.progress:
        options.progress(message)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_sha256(submission: Submission) -> str:
    """What identifies the submitted thing, for the cache key (with the manifest)."""
    from runner.data import tree_sha256

    if submission.predictions is not None:
        artifact = file_sha256(submission.predictions)
    elif submission.image is not None:
        artifact = submission.image
    else:
        artifact = tree_sha256(submission.build.context)
    return hashlib.sha256(f"{submission.sha256}\n{artifact}".encode()).hexdigest()


def ingest(
    challenge: Challenge,
    submission: Submission,
    inputs: Path,
    work_dir: Path,
    *,
    image=None,
    unsafe: bool = False,
    progress: Progress | None = None,
) -> Ingested:
    """Obtain predictions: the committed file, or a sandboxed run on the hidden inputs.

    ``image`` (an ``ImageRef``) is an image built elsewhere (CI builds in a job without
    secrets); without it the submission's image is pulled or built here.
    """
    if submission.kind == "predictions":
        return Ingested("ok", predictions=submission.predictions)
    from runner.images import BuildFailed, ImageRejected, resolve_image
    from runner.sandbox import run_submission

    timings: dict[str, float] = {}
    start = time.monotonic()
    try:
        image = image or resolve_image(submission, challenge.container, progress=progress)
    except BuildFailed as err:
        return Ingested("failed", err.message, err.detail or "", timings=timings)
    except ImageRejected as err:
        return Ingested("invalid", err.message, err.detail or "", timings=timings)
    except RunnerError as err:
        return Ingested("error", err.message, err.detail or str(err), timings=timings)
    timings["image"] = time.monotonic() - start
    outcome = run_submission(
        image.ref,
        submission.command,
        input_dir=inputs,
        submission_dir=submission.folder,
        work_dir=work_dir,
        limits=challenge.container,
        unsafe=unsafe,
        progress=progress,
    )
    timings["run"] = outcome.duration_s
    return Ingested(
        outcome.status,
        outcome.message,
        outcome.detail,
        outcome.predictions,
        image.digest or image.id,
        timings,
    )


def evaluate(challenge: Challenge, submission: Submission, options: Options) -> Evaluation:
    """Prepare, ingest, score and record one submission; return its record.

    Raises ``LimitReached`` before running anything when the entrant has no evaluation
    left, and ``RunnerError`` for problems a maintainer must fix (missing key, bad data).
    """
    from runner.data import open_hidden
    from runner.records import cache_key, find_cached, load_results

    now = options.now or datetime.now(UTC)
    started = time.monotonic()
    label = f"{challenge.id}/{submission.entrant}/{submission.name}"
    existing = load_results(options.results_dir, challenge.id).results
    phase = challenge.phase_at(now)
    if options.enforce_limits and phase is not None:
        _check_limits(challenge, phase, existing, submission, now)
    _say(options, f"{label}: obtaining hidden data")
    hidden = open_hidden(
        challenge,
        data_dir=options.data_dir,
        cache_dir=options.cache_dir,
        env=options.env,
    )
    artifact = artifact_sha256(submission)  # hashes the predictions file or build context
    key = cache_key(challenge.sha256, hidden.sha256, artifact, __version__)
    cached = None if options.force else find_cached(existing, key)
    if cached is not None:
        _say(options, f"{label}: unchanged since evaluation {cached.evaluation_id}; not run again")
        return Evaluation(cached, None, cached=True)
    timings = {"data": time.monotonic() - started}
    with tempfile.TemporaryDirectory(prefix="challenge-runner-") as tmp:
        _say(options, f"{label}: ingest ({submission.kind})")
        got = ingest(
            challenge,
            submission,
            hidden.inputs,
            Path(tmp),
            unsafe=options.unsafe,
            progress=(lambda m: _say(options, f"{label}: {m}")),
        )
        timings |= got.timings
        result = build_result(challenge, submission, hidden, got, artifact, now, options)
    result = as_reevaluation(challenge, result, existing)
    timings["total"] = time.monotonic() - started
    result = replace(result, timings={k: round(v, 3) for k, v in timings.items()})
    sealed = seal_for_storage(challenge, result, now)
    return Evaluation(sealed, _write(sealed, options))


def as_reevaluation(challenge: Challenge, result: Result, existing) -> Result:
    """``result`` as a re-evaluation, when it evaluates an artifact already on record.

    A change to the challenge, the data or the runner makes records stale and ``run``
    evaluates their submissions again. The new record stands for the same submission: it
    keeps the earlier record's ``created_at`` (so it stays in the phase it was submitted
    in, counts once against limits and keeps its tie-break order) and supersedes it.
    """
    from runner.records import current_results

    artifact = result.provenance.artifact_sha256
    same = [
        r
        for r in current_results(existing)
        if (r.challenge, r.participant, r.submission)
        == (
            result.challenge,
            result.participant,
            result.submission,
        )
        and r.provenance.artifact_sha256 == artifact
        and r.cache_key != result.cache_key
    ]
    if artifact is None or not same:
        return result
    earlier = max(same, key=lambda r: (r.created_at, r.evaluation_id))
    phase = challenge.phase_at(earlier.created_at)
    return replace(
        result,
        created_at=earlier.created_at,
        phase=phase.id if phase else None,
        supersedes=earlier.evaluation_id,
    )


def _check_limits(challenge, phase, existing, submission: Submission, now: datetime) -> None:
    from runner.limits import check_submitter_limits

    status = check_submitter_limits(
        challenge, phase, existing, submission.participant, submission.team, now
    )
    if not status.allowed:
        raise LimitReached(status.message)


def build_result(challenge, submission, hidden, got: Ingested, artifact, now, options) -> Result:
    """The record of an evaluation from what ingest produced (scoring it when it is "ok").

    ``artifact`` is ``artifact_sha256(submission)``, computed once by the caller. Private
    scores are still in clear here: pass the result through ``seal_for_storage``.
    """
    from runner.records import cache_key, new_evaluation_id

    status, message, detail, scores, ladder = got.status, got.message, got.detail, {}, None
    predictions_sha = None
    if got.status == "ok":
        predictions_sha = file_sha256(got.predictions)
        status, message, detail, scores, ladder = score(
            challenge,
            hidden.truth,
            got.predictions,
            saw_hidden_inputs=submission.kind != "predictions",
        )
    phase = challenge.phase_at(now)
    return Result(
        challenge=challenge.id,
        phase=phase.id if phase else None,
        participant=submission.participant,
        team=submission.team,
        user_id=options.context.user_id,
        submission=submission.name,
        evaluation_id=new_evaluation_id(now),
        created_at=now,
        status=status,
        message=message,
        detail=_seal_detail(challenge, detail),
        scores=scores,
        ladder=ladder,
        baseline=submission.baseline,
        cache_key=cache_key(challenge.sha256, hidden.sha256, artifact, __version__),
        provenance=Provenance(
            runner_version=__version__,
            challenge_sha256=challenge.sha256,
            data_sha256=hidden.sha256,
            manifest_sha256=submission.sha256,
            image_digest=got.image_digest,
            predictions_sha256=predictions_sha,
            artifact_sha256=artifact,
            commit=options.context.commit,
            pull_request=options.context.pull_request,
            run_url=options.context.run_url,
        ),
    )


def score(challenge: Challenge, truth_path: Path, predictions: Path, *, saw_hidden_inputs=False):
    """(status, message, detail, scores, ladder) for a predictions file against the truth.

    A file written by a container that read the hidden inputs gets a fixed reason: the
    validator's messages quote the file, and the file may quote the hidden inputs. The exact
    reason goes to the (sealed) maintainer detail.
    """
    from runner.errors import PredictionsError
    from runner.scoring import ScoringError, read_truth, score_predictions

    truth = read_truth(truth_path, challenge)
    try:
        outcome = score_predictions(challenge, truth, predictions)
    except PredictionsError as err:
        if saw_hidden_inputs:
            return "invalid", withheld_reason(challenge), err.message, {}, None
        return "invalid", err.message, err.detail or "", {}, None
    except ScoringError as err:
        return "error", err.message, err.detail or "", {}, None
    return "scored", "scored", "", outcome.scores, outcome.ladder


def withheld_reason(challenge: Challenge) -> str:
    """What a participant is told when their container's predictions file is not valid."""
    from runner.predictions import expected_header

    return (
        "/output/predictions.csv does not match the challenge's format: a CSV with the header "
        f"`{expected_header(challenge.predictions)}` and one row per test id. The exact reason "
        "is withheld because the file was written from hidden inputs; run your container on "
        "the public sample inputs to see it."
    )


def _seal_detail(challenge: Challenge, detail: str) -> str | None:
    """Maintainer detail may hold output of a run that saw hidden inputs: never in clear."""
    if not detail or not challenge.hidden.recipient:
        return None
    from runner.data import encrypt_text

    return encrypt_text(detail, challenge.hidden.recipient)


def seal_for_storage(challenge: Challenge, result: Result, now: datetime) -> Result:
    """The result as it may be shown and stored: private scores sealed before the reveal."""
    from runner.reveal import seal_result

    if not challenge.hidden.recipient:
        # Nothing to seal private scores to: they are not stored (documented in hosting.md).
        result = replace(result, scores={k: v for k, v in result.scores.items() if k != "private"})
    return seal_result(challenge, result, now)


def _write(result: Result, options: Options) -> Path:
    from runner.records import write_result

    return write_result(options.results_dir, result)
