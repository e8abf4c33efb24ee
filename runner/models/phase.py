"""A challenge's phases and their submission limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal


@dataclass(frozen=True)
class Limits:
    per_day: int | None = None  # evaluations per UTC day (every status but "error" counts)
    total: int | None = None


# The end of a phase that never ends (challenge.yaml omits ``end``): later than any real date.
OPEN_END = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class Phase:
    id: str
    start: datetime  # timezone-aware, UTC
    end: datetime  # OPEN_END when the phase never ends
    leaderboard: Literal["public", "private"] = "public"
    limits: Limits = field(default_factory=Limits)
    selection: int | None = None  # participants pick this many submissions for the board
    reveal: datetime | None = None  # private scores become clear then (default: end)
    listed: bool = True  # False: not shown on the site or the CLI leaderboard

    @property
    def open_ended(self) -> bool:
        return self.end >= OPEN_END

    @property
    def reveal_at(self) -> datetime:
        return self.reveal or self.end

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end
