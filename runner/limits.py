"""Submission limits per UTC day and per phase (DESIGN §6): one function decides what fits.

Every evaluation counts except ``error`` ones (the platform failed, not the participant):
invalid predictions, failed, timed-out and out-of-memory runs use up quota like scored ones.
The day is the UTC calendar day; the total is per phase (records whose ``created_at`` lies
in the phase window). A corrected record (e.g. a reveal) replaces its original and does not
count twice.

Whose quota: a submission draws on its person's quota and, when it is a team's, on the
team's (``runner.entrants``: people by user id where known, logins and team names without
regard to case), so joining a team gives no extra evaluations and ``ALICE`` is ``alice``.

``admit`` is the one decision: given the records that exist, the new evaluations (plan items
not yet run, as ``Claim``s, or new records) and now, it says which new ones fit, in order.
``pr prepare`` asks it with the plan's own items (so one PR with 8 manifests cannot use 8 of
5), ``pr record`` asks it again with the freshly fetched results store (so racing PRs cannot
both pass), and local ``evaluate``/``run`` ask it before running.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from runner.entrants import Entrants
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


@dataclass(frozen=True)
class Claim:
    """An evaluation that wants quota but has no record yet (a plan item)."""

    participant: str
    team: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class _Use:
    keys: frozenset
    created_at: datetime


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _uses(
    challenge: Challenge, phase: Phase, results: Iterable[Result], entrants: Entrants
) -> list[Any]:
    mine = (r for r in results if r.challenge == challenge.id)
    return [
        _Use(entrants.of_result(r), r.created_at)
        for r in current_results(mine)
        if r.status != "error" and phase.contains(r.created_at)
    ]


def _status(
    challenge: Challenge, phase: Phase, uses: Sequence[_Use], key: str, now: datetime
) -> LimitStatus:
    """What ``key``'s quota looks like with ``uses`` counted; allowed: one more fits."""
    counted = [u for u in uses if key in u.keys]
    today = now.astimezone(UTC).date()
    used_today = sum(1 for u in counted if u.created_at.astimezone(UTC).date() == today)
    limits = phase.limits
    left_today = None if limits.per_day is None else max(limits.per_day - used_today, 0)
    left_total = None if limits.total is None else max(limits.total - len(counted), 0)
    resets_at = None
    if limits.per_day is not None:
        resets_at = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    message = _message(challenge, phase, used_today, len(counted), resets_at)
    allowed = left_today != 0 and left_total != 0
    return LimitStatus(allowed, used_today, left_today, left_total, resets_at, message)


def _no_phase() -> LimitStatus:
    return LimitStatus(True, 0, None, None, None, "no phase is open: this evaluation will not rank")


def _tightest(statuses: list[LimitStatus]) -> LimitStatus:
    """The first exhausted quota refuses, else the one with the least headroom speaks."""
    refused = [s for s in statuses if not s.allowed]
    return refused[0] if refused else min(statuses, key=_headroom)


def _keys(entrants: Entrants, new: Claim | Result) -> frozenset:
    return entrants.quota_keys(new.participant, new.team, new.user_id)


def _free(new: Claim | Result, uses_ids: set[str]) -> bool:
    """A new record that never takes quota: a platform error, or one that replaces a record
    already counted (a re-evaluation or a reveal keeps its original's place)."""
    if not isinstance(new, Result):
        return False
    return new.status == "error" or (new.supersedes is not None and new.supersedes in uses_ids)


def admit(
    challenge: Challenge,
    existing: Iterable[Result],
    new: Sequence[Claim | Result],
    now: datetime,
) -> tuple[LimitStatus, ...]:
    """For each of ``new`` in order: may it be evaluated (or recorded) now?

    Each status is the quota as it stood before that item, with the ones admitted before it
    counted; ``allowed`` False means it is over the limit and must not be evaluated or
    recorded (and it then takes no quota). ``existing`` may hold any challenge's records.
    """
    existing = [r for r in existing if r.challenge == challenge.id]
    phase = challenge.phase_at(now)
    if phase is None:
        return tuple(_no_phase() for _ in new)
    claimed = [(n.participant, n.user_id) for n in new if n.user_id is not None]
    entrants = Entrants.of([*existing, *(n for n in new if isinstance(n, Result))], claimed)
    uses = _uses(challenge, phase, existing, entrants)
    counted_ids = {
        r.evaluation_id for r in current_results(existing) if phase.contains(r.created_at)
    }
    statuses = []
    for item in new:
        keys = _keys(entrants, item)
        status = _tightest([_status(challenge, phase, uses, k, now) for k in sorted(keys)])
        if _free(item, counted_ids):
            status = replace(status, allowed=True)
        elif status.allowed:
            uses.append(_Use(keys, now))
        statuses.append(status)
    return tuple(statuses)


def remaining(
    challenge: Challenge,
    results: Iterable[Result],
    participant: str,
    team: str | None,
    now: datetime,
    user_id: int | None = None,
) -> LimitStatus:
    """The submitter's quota as it stands with ``results`` counted (allowed: one more fits)."""
    return admit(challenge, results, [Claim(participant, team, user_id)], now)[0]


def check_limits(
    challenge: Challenge,
    phase: Phase | None,
    results: Iterable[Result],
    entrant: str,
    now: datetime,
) -> LimitStatus:
    """Whether ``entrant`` (a login or a team name) may have one more evaluation now.

    ``phase`` None (no phase open) means nothing limits the evaluation; it will not rank.
    """
    if phase is None:
        return _no_phase()
    results = list(results)
    entrants = Entrants.of(results)
    uses = _uses(challenge, phase, results, entrants)
    keys = {entrants.person(entrant), entrants.team(entrant)}
    # One key for "this login or this team", so a member's own and team records both count.
    marked = [_Use(u.keys | {"*"}, u.created_at) if u.keys & keys else u for u in uses]
    return _status(challenge, phase, marked, "*", now)


def check_submitter_limits(
    challenge: Challenge,
    phase: Phase | None,
    results: Iterable[Result],
    participant: str,
    team: str | None,
    now: datetime,
    user_id: int | None = None,
) -> LimitStatus:
    """Limits for one more submission by ``participant`` (for ``team``, when there is one).

    A team member draws on the team's quota and on their own, so joining a team (or many)
    gives no extra evaluations: the first exhausted quota refuses, else the tighter one
    is reported.
    """
    if phase is None:
        return _no_phase()
    return remaining(challenge, results, participant, team, now, user_id)


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
    if limits.per_day == 0:
        return f"phase {phase.id} is closed to new submissions; {_after_phase(challenge, phase)}"
    if limits.total is not None and used_total >= limits.total:
        used = _used(used_total, limits.total, f"in phase {phase.id}")
        return f"{used}; {_after_phase(challenge, phase)}"
    if limits.per_day is not None and used_today >= limits.per_day:
        head = _used(used_today, limits.per_day, "today (UTC)") + "; "
        if resets_at is not None and resets_at < phase.end:
            return head + f"next at {_when(resets_at)}"
        return head + f"phase {phase.id} ends before the reset; {_after_phase(challenge, phase)}"
    parts = []
    if limits.per_day is not None:
        parts.append(f"{limits.per_day - used_today} of {limits.per_day} left today (UTC)")
    if limits.total is not None:
        parts.append(f"{limits.total - used_total} of {limits.total} left in phase {phase.id}")
    return "; ".join(parts) if parts else f"no evaluation limits in phase {phase.id}"


def _used(used: int, limit: int, when: str) -> str:
    """``5 of 5 evaluations used today (UTC)``; past the limit (records made without limits,
    or a limit lowered since) the count and the limit apart, never ``6 of 5``."""
    if used == limit:
        return f"{used} of {limit} evaluations used {when}"
    return f"{used} evaluations used {when}, more than the limit of {limit}"


def _after_phase(challenge: Challenge, phase: Phase) -> str:
    upcoming = sorted((p for p in challenge.phases if p.start >= phase.end), key=lambda p: p.start)
    if upcoming:
        return f"next at {_when(upcoming[0].start)} when phase {upcoming[0].id} opens"
    return "no further evaluations can rank in this challenge"
