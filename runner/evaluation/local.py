"""The local chain: prepare -> build -> ingest -> score -> record, in one process.

The step results stay in memory; ``runner.github.stages`` chains the same steps across CI
jobs through encrypted artifacts. Every evaluation that starts ends in a record with a
status: a participant's problem is ``failed``/``timeout``/``oom``/``invalid`` with a safe
message, the platform's is ``error`` (never counted against limits).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import RunnerError
from runner.evaluation import record as recording
from runner.evaluation.score import score
from runner.evaluation.steps import Context, Prepared, build, ingest, prepare
from runner.models import Challenge, Phase, Result, Submission
from runner.progress import Progress, say

if TYPE_CHECKING:
    from runner.data.hidden import HiddenData


class LimitReached(RunnerError):
    """The participant has used their evaluations; the message says when they may submit."""


@dataclass(frozen=True)
class Options:
    results_dir: Path
    data_dir: Path | None = None  # a local hidden-data folder (inputs/ + truth.csv)
    data_option: str | None = None  # the caller's option naming such a folder, for messages
    cache_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    now: datetime | None = None
    unsafe: bool = False  # run even if the engine cannot enforce a control
    force: bool = False  # evaluate again even when a record with the same inputs exists
    enforce_limits: bool = True
    show_output: bool = False  # keep the container's output tail (see Evaluation.output)
    context: Context = field(default_factory=Context)
    progress: Progress | None = None


@dataclass(frozen=True)
class Evaluation:
    result: Result
    path: Path | None  # the record written, None when served from the cache
    cached: bool = False
    # The container's output tail, only when Options.show_output (the caller's own data:
    # a run on the challenge's hidden inputs never shows it, DESIGN §3 invariant 4).
    output: str | None = None


def evaluate(challenge: Challenge, submission: Submission, options: Options) -> Evaluation:
    """Prepare, build, ingest, score and record one submission; return its record.

    Raises ``LimitReached`` before running anything when the entrant has no evaluation
    left, and ``RunnerError`` for problems a maintainer must fix (missing key, bad data).
    Limits are checked once the evaluation is known to be new: one served from the cache,
    or a re-evaluation of an artifact already on record (a changed challenge, data or
    runner), takes no quota (``runner.limits``).
    """
    from runner.data import open_hidden

    now = options.now or datetime.now(UTC)
    started = time.monotonic()
    label = f"{challenge.id}/{submission.entrant}/{submission.name}"
    say(options.progress, f"{label}: obtaining hidden data")
    hidden = open_hidden(
        challenge,
        data_dir=options.data_dir,
        cache_dir=options.cache_dir,
        env=options.env,
        override=options.data_option,
    )
    prepared = prepare(challenge, submission, hidden.sha256)
    timings: dict[str, float | None] = {"data": time.monotonic() - started}
    with recording.evaluation_lock(options.results_dir, prepared.cache_key):
        existing = _existing(options.results_dir, challenge.id)
        cached = _cached(existing, prepared, options)
        if cached is not None:
            say(options.progress, f"{label}: unchanged since evaluation {cached.evaluation_id}")
            return Evaluation(cached, None, cached=True)
        _check_limits(challenge, submission, prepared, existing, options, now)
        result, output = _run(challenge, submission, hidden, prepared, timings, now, options)
        finished = recording.finish(challenge, result, existing=existing, timings=timings, now=now)
        path = recording.record(options.results_dir, finished)
        return Evaluation(finished, path, output=output if options.show_output else None)


def _run(
    challenge: Challenge,
    submission: Submission,
    hidden: HiddenData,
    prepared: Prepared,
    timings: dict[str, float | None],
    now: datetime,
    options: Options,
) -> tuple[Result, str | None]:
    """Build, ingest and score in a temp dir (the run's predictions die with it); the record,
    and the container's output tail when it ran."""
    from runner.sandbox.run import output_tail

    label = f"{challenge.id}/{submission.entrant}/{submission.name}"

    def progress(message: str) -> None:
        say(options.progress, f"{label}: {message}")

    with tempfile.TemporaryDirectory(prefix="challenge-runner-") as tmp:
        say(options.progress, f"{label}: ingest ({submission.kind})")
        built, image = build(challenge, submission, progress=progress)
        got = ingest(
            challenge,
            submission,
            hidden.inputs,
            Path(tmp),
            built=built,
            image=image,
            unsafe=options.unsafe,
            progress=progress,
            public_inputs=options.show_output,  # the caller's own data: nothing to hide
            now=now,
        )
        timings |= got.timings
        start = time.monotonic()
        result = score(
            challenge,
            submission,
            hidden.truth,
            got,
            prepared,
            now=now,
            context=options.context,
            truth_cache=hidden.prepared,
            unsafe=options.unsafe,
        )
        timings["score"] = time.monotonic() - start
    return result, output_tail(got.detail or "")


def _existing(results_dir: Path, challenge_id: str) -> tuple[Result, ...]:
    from runner.records import load_results

    return load_results(results_dir, challenge_id).results


def _cached(existing: tuple[Result, ...], prepared: Prepared, options: Options) -> Result | None:
    from runner.records import find_cached

    return None if options.force else find_cached(existing, prepared.cache_key)


def _check_limits(
    challenge: Challenge,
    submission: Submission,
    prepared: Prepared,
    existing: tuple[Result, ...],
    options: Options,
    now: datetime,
) -> None:
    phase = challenge.phase_at(now)
    if not options.enforce_limits or phase is None:
        return
    who = (challenge.id, submission.participant, submission.name)
    if recording.earlier_record(existing, who, prepared.artifact_sha256, prepared.cache_key):
        return  # a re-evaluation keeps its original's place in the quota
    _limit(challenge, phase, existing, submission, now)


def _limit(
    challenge: Challenge,
    phase: Phase,
    existing: tuple[Result, ...],
    submission: Submission,
    now: datetime,
) -> None:
    from runner.limits import check_submitter_limits

    status = check_submitter_limits(
        challenge, phase, existing, submission.participant, submission.team, now
    )
    if not status.allowed:
        raise LimitReached(status.message)
