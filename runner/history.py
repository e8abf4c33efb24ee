"""A participant's (or team's) history: every evaluation, and which ones count on a board.

One pure function behind both the site's participant and team pages and
``challenge-runner submissions``, so the terminal and the site never disagree. An
evaluation *counts* when a board of its phase ranks it (the entrant's best, or the Ladder's
release, among the submissions the phase's ``selection`` keeps); a baseline is shown, never
ranked. Public scores are withheld where the board uses the Ladder (a single evaluation's
public score is what the Ladder exists not to publish).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from runner.leaderboard import Board
from runner.models import Challenge, Result
from runner.records import format_time


@dataclass(frozen=True)
class HistoryRow:
    challenge: str
    participant: str
    team: str | None
    submission: str
    evaluation_id: str
    created_at: datetime
    phase: str | None  # None: outside every phase (never ranked)
    status: str
    metric: str  # the primary metric
    score: float | None  # public split; None when not scored or withheld
    precision: int
    withheld: bool  # the Ladder withholds this public score
    counts: str  # "" or where it ranks, e.g. "rank 2 of 5 (open, public split)", or "baseline"
    message: str = ""

    @property
    def score_text(self) -> str:
        if self.withheld:
            return "withheld"
        return "—" if self.score is None else f"{self.score:.{self.precision}f}"

    def to_dict(self) -> dict:
        return {
            "challenge": self.challenge,
            "participant": self.participant,
            "team": self.team,
            "submission": self.submission,
            "evaluation_id": self.evaluation_id,
            "created_at": format_time(self.created_at),
            "phase": self.phase,
            "status": self.status,
            "metric": self.metric,
            "score": None if self.withheld else self.score,
            "withheld": self.withheld,
            "counts": self.counts,
            "message": self.message,
        }


def ranked_on(boards: Iterable[Board]) -> dict[str, str]:
    """evaluation id -> where it ranks, for every entry of the boards given."""
    where: dict[str, str] = {}
    for board in boards:
        ranked = sum(1 for e in board.entries if e.rank is not None)
        for e in board.entries:
            if e.baseline:
                where[e.result.evaluation_id] = "baseline"
            else:
                text = f"rank {e.rank} of {ranked} ({board.phase}, {board.split} split)"
                where[e.result.evaluation_id] = text
    return where


def history(
    challenge: Challenge, results: Iterable[Result], boards: Iterable[Board]
) -> list[HistoryRow]:
    """A row per record (newest first); ``boards`` are the boards shown for each phase."""
    boards = list(boards)
    counts = ranked_on(boards)
    withheld_ladder = challenge.leaderboard.ladder
    metric = challenge.primary
    precision = metric.precision
    rows = []
    for r in sorted(results, key=lambda r: (r.created_at, r.evaluation_id), reverse=True):
        score = r.scores.get("public", {}).get(metric.name)
        phase = challenge.phase_at(r.created_at)
        rows.append(
            HistoryRow(
                challenge=challenge.id,
                participant=r.participant,
                team=r.team,
                submission=r.submission,
                evaluation_id=r.evaluation_id,
                created_at=r.created_at,
                phase=phase.id if phase else None,
                status=r.status,
                metric=metric.name,
                score=score.value if score else None,
                precision=precision,
                withheld=withheld_ladder and score is not None and not r.baseline,
                counts=counts.get(r.evaluation_id, ""),
                message=r.message,
            )
        )
    return rows


def of_entrant(
    rows: Iterable[HistoryRow], login: str | None = None, team: str | None = None
) -> list[HistoryRow]:
    """The rows of one participant (any team they submitted with) or of one team."""
    out = list(rows)
    if login is not None:
        out = [r for r in out if r.participant.lower() == login.lower()]
    if team is not None:
        out = [r for r in out if r.team == team]
    return out
