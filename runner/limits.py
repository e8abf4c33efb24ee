"""Submission limits per UTC day and per phase, checked before anything runs (DESIGN §6).

Every evaluation counts except ``error`` ones (the platform failed, not the participant):
invalid predictions, failed, timed-out and out-of-memory runs use up quota like scored ones.
The day is the UTC calendar day; the total is per phase (records whose ``created_at`` lies
in the phase window). A corrected record (e.g. a reveal) replaces its original and does not
count twice.

Whose quota: ``entrant`` is matched against both a record's participant and its team, so a
team's quota covers all its members' team submissions, and a participant's quota counts
their own submissions whether or not they were made for a team (joining a team gives no
extra evaluations).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from runner.models import Challenge, Phase, Result
from runner.records import current_results


@dataclass(frozen=True)
class LimitStatus:
    allowed: bool
    used_today: int
    left_today: int | None  # None: no daily limit
    left_total: int | None  # None: no total limit
    resets_at: datetime | None  # next UTC midnight when there is a daily limit
    message: str  # participant-safe, says when they may submit again if not allowed


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _counted(challenge: Challenge, phase: Phase, results: Iterable[Result], entrant: str):
    mine = (r for r in results if r.challenge == challenge.id)
    return [
        r
        for r in current_results(mine)
        if r.status != "error"
        and entrant in (r.participant, r.team)
        and phase.contains(r.created_at)
    ]


def check_limits(
    challenge: Challenge,
    phase: Phase | None,
    results: Iterable[Result],
    entrant: str,
    now: datetime,
) -> LimitStatus:
    """Whether ``entrant`` may have one more evaluation now, and a message saying so.

    ``phase`` None (no phase open) means nothing limits the evaluation; it will not rank.
    """
    if phase is None:
        return LimitStatus(
            True, 0, None, None, None, "no phase is open: this evaluation will not rank"
        )
    counted = _counted(challenge, phase, results, entrant)
    today = now.astimezone(UTC).date()
    used_today = sum(1 for r in counted if r.created_at.astimezone(UTC).date() == today)
    limits = phase.limits
    left_today = None if limits.per_day is None else max(limits.per_day - used_today, 0)
    left_total = None if limits.total is None else max(limits.total - len(counted), 0)
    resets_at = None
    if limits.per_day is not None:
        resets_at = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    message = _message(challenge, phase, used_today, len(counted), resets_at)
    allowed = left_today != 0 and left_total != 0
    return LimitStatus(allowed, used_today, left_today, left_total, resets_at, message)


def check_submitter_limits(
    challenge: Challenge,
    phase: Phase | None,
    results: Iterable[Result],
    participant: str,
    team: str | None,
    now: datetime,
) -> LimitStatus:
    """Limits for a submission by ``participant`` (for ``team``, when there is one).

    A team member draws on the team's quota and on their own, so joining a team (or many)
    gives no extra evaluations: the first exhausted quota refuses, else the tighter one
    is reported.
    """
    results = list(results)
    statuses = [
        check_limits(challenge, phase, results, who, now) for who in (participant, team) if who
    ]
    refused = [s for s in statuses if not s.allowed]
    if refused:
        return refused[0]
    return min(statuses, key=_headroom)


def _headroom(status: LimitStatus) -> tuple[float, float]:
    unlimited = float("inf")
    return (
        unlimited if status.left_today is None else status.left_today,
        unlimited if status.left_total is None else status.left_total,
    )


def _message(
    challenge: Challenge,
    phase: Phase,
    used_today: int,
    used_total: int,
    resets_at: datetime | None,
) -> str:
    limits = phase.limits
    if limits.total is not None and used_total >= limits.total:
        return (
            f"{used_total} of {limits.total} evaluations used in phase {phase.id}; "
            f"{_after_phase(challenge, phase)}"
        )
    if limits.per_day is not None and used_today >= limits.per_day:
        head = f"{used_today} of {limits.per_day} evaluations used today (UTC); "
        if resets_at is not None and resets_at < phase.end:
            return head + f"next at {_when(resets_at)}"
        return head + f"phase {phase.id} ends before the reset; {_after_phase(challenge, phase)}"
    parts = []
    if limits.per_day is not None:
        parts.append(f"{limits.per_day - used_today} of {limits.per_day} left today (UTC)")
    if limits.total is not None:
        parts.append(f"{limits.total - used_total} of {limits.total} left in phase {phase.id}")
    return "; ".join(parts) if parts else f"no evaluation limits in phase {phase.id}"


def _after_phase(challenge: Challenge, phase: Phase) -> str:
    upcoming = sorted((p for p in challenge.phases if p.start >= phase.end), key=lambda p: p.start)
    if upcoming:
        return f"next at {_when(upcoming[0].start)} when phase {upcoming[0].id} opens"
    return "no further evaluations can rank in this challenge"
