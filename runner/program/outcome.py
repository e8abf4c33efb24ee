"""What running a scoring program comes to (``runner.program``)."""

from __future__ import annotations

from dataclasses import dataclass, field

FAILED = (
    "the challenge's scoring program could not score this submission; check its files "
    "against the challenge's submission instructions"
)


@dataclass(frozen=True)
class ProgramOutcome:
    """``status`` is scored, invalid or error; ``scores`` maps split -> metric -> value."""

    status: str
    message: str
    detail: str = ""
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
