"""The record step: a scored result as it is stored, and the lock around an evaluation.

Both chains end here: the result becomes a re-evaluation when it evaluates an artifact
already on record, its timings are coarsened, private scores are sealed, and it is written
(atomically, never overwriting).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from runner.models import Challenge, Result

LOCKS = ".locks"  # under the results folder; dot folders are not read as records


def coarse_timings(timings: Mapping[str, float | None]) -> dict[str, float]:
    """Whole seconds, with ``total`` the sum of the steps.

    A container-measured time is the participant's to choose (it can encode what the
    container read from the hidden inputs), so a record never publishes it precisely.
    """
    steps = {k: v for k, v in timings.items() if v is not None and k != "total"}
    if not steps:
        return {}
    return {
        **{k: float(round(v)) for k, v in steps.items()},
        "total": float(round(sum(steps.values()))),
    }


def as_reevaluation(challenge: Challenge, result: Result, existing: Iterable[Result]) -> Result:
    """``result`` as a re-evaluation, when it evaluates an artifact already on record.

    A change to the challenge, the data or the runner makes records stale and ``run``
    evaluates their submissions again. The new record stands for the same submission: it
    keeps the earlier record's ``created_at`` (so it stays in the phase it was submitted
    in, counts once against limits and keeps its tie-break order) and supersedes it.
    """
    who = (result.challenge, result.participant, result.submission)
    artifact, key = result.provenance.artifact_sha256, result.cache_key
    earlier = earlier_record(existing, who, artifact, key)
    if earlier is None:
        return result
    phase = challenge.phase_at(earlier.created_at)
    return replace(
        result,
        created_at=earlier.created_at,
        phase=phase.id if phase else None,
        supersedes=earlier.evaluation_id,
    )


def earlier_record(
    existing: Iterable[Result],
    who: tuple[str, str, str],
    artifact: str | None,
    cache_key: str | None,
) -> Result | None:
    """The current record an evaluation of ``artifact`` by ``who`` (challenge, participant,
    submission) under a new ``cache_key`` re-evaluates, if any: its new record supersedes
    that one and takes no quota of its own (``runner.limits``)."""
    from runner.records import current_results

    same = [
        r
        for r in current_results(existing)
        if (r.challenge, r.participant, r.submission) == who
        and r.provenance.artifact_sha256 == artifact
        and r.cache_key != cache_key
    ]
    if artifact is None or not same:
        return None
    return max(same, key=lambda r: (r.created_at, r.evaluation_id))


def seal_for_storage(
    challenge: Challenge, result: Result, now: datetime, existing: Iterable[Result] = ()
) -> Result:
    """The result as it may be shown and stored: private scores sealed before the reveal,
    and under the Ladder only the released public score in clear (``reveal.seal_result``)."""
    from runner.reveal import seal_result

    if not challenge.hidden.recipient:
        # Nothing to seal private scores to: they are not stored (documented in hosting.md).
        result = replace(result, scores={k: v for k, v in result.scores.items() if k != "private"})
    return seal_result(challenge, result, now, existing)


def finish(
    challenge: Challenge,
    result: Result,
    *,
    existing: Iterable[Result],
    timings: Mapping[str, float | None],
    now: datetime,
) -> Result:
    """The record to store: a re-evaluation if it is one, coarse timings, sealed."""
    existing = list(existing)
    result = as_reevaluation(challenge, result, existing)
    result = replace(result, timings=coarse_timings(timings))
    return seal_for_storage(challenge, result, now, existing)


def record(results_dir: Path, result: Result) -> Path:
    """Write the finished record under ``results_dir`` (never overwriting)."""
    from runner.records import write_result

    return write_result(results_dir, result)


@contextmanager
def evaluation_lock(results_dir: Path, cache_key: str) -> Iterator[None]:
    """Hold an exclusive lock on ``cache_key`` in ``results_dir`` (waits for another holder).

    Two ``evaluate`` processes of the same manifest would each miss the cache and write a
    record; under the lock the second re-reads the records and finds the first one's.
    """
    folder = results_dir / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{cache_key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
