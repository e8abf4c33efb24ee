"""Where a challenge stands at build time: upcoming, open or closed, and which board leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from runner.models import Challenge, Phase
from runner.site.fmt import duration_text

State = Literal["upcoming", "open", "closed"]


@dataclass(frozen=True)
class ChallengeStatus:
    state: State
    phase: Phase | None  # the phase open now, or the next one (upcoming), or the last (closed)
    text: str  # e.g. "open (phase open): 3 days 4 hours left"


def challenge_status(challenge: Challenge, now: datetime) -> ChallengeStatus:
    """The state at ``now``; between two phases the challenge is upcoming (the next phase)."""
    current = challenge.phase_at(now)
    if current is not None:
        if current.open_ended:
            return ChallengeStatus("open", current, f"open (phase {current.id}): no end date")
        left = duration_text(current.end - now)
        return ChallengeStatus("open", current, f"open (phase {current.id}): {left} left")
    upcoming = [p for p in challenge.phases if p.start > now]
    if upcoming:
        nxt = min(upcoming, key=lambda p: p.start)
        return ChallengeStatus(
            "upcoming", nxt, f"upcoming: phase {nxt.id} opens in {duration_text(nxt.start - now)}"
        )
    last = max(challenge.phases, key=lambda p: p.end)
    return ChallengeStatus("closed", last, f"closed on {last.end:%Y-%m-%d}")


def board_phase(challenge: Challenge, now: datetime) -> Phase:
    """The phase whose board the home page and badges show: open now, else the latest begun."""
    listed = [p for p in challenge.phases if p.listed] or list(challenge.phases)
    current = challenge.phase_at(now)
    if current is not None and current in listed:
        return current
    begun = [p for p in listed if p.start <= now]
    return max(begun, key=lambda p: p.start) if begun else listed[0]


def is_revealed(phase: Phase, now: datetime) -> bool:
    """Private scores of a phase are shown once its reveal time has passed."""
    return now >= phase.reveal_at
