"""One evaluation's result record and its parts (scores, provenance, ladder statistics)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from runner.status import RECORDED

Status = Literal["scored", "invalid", "failed", "timeout", "oom", "error"]
STATUSES: tuple[str, ...] = RECORDED  # the words, headlines, labels: runner/status.py
SPLITS: tuple[str, ...] = ("public", "private")


@dataclass(frozen=True)
class Score:
    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class LadderStats:
    """Per-row loss summary of the primary metric on the public split, for the Ladder."""

    loss_mean: float
    loss_sd: float
    n: int


@dataclass(frozen=True)
class Provenance:
    runner_version: str
    challenge_sha256: str
    data_sha256: str
    manifest_sha256: str
    image_digest: str | None = None
    # What was submitted (manifest + predictions file, image or build context): records of
    # the same artifact are evaluations of one submission, a later one re-evaluating it.
    artifact_sha256: str | None = None
    predictions_sha256: str | None = None
    commit: str | None = None
    pull_request: int | None = None
    run_url: str | None = None


@dataclass(frozen=True)
class Result:
    """One evaluation, as stored in ``results/<challenge>/<participant>/<name>/<id>.json``."""

    challenge: str
    phase: str | None  # None: evaluated outside every phase (late); never ranked
    participant: str
    submission: str
    evaluation_id: str
    created_at: datetime
    status: Status
    message: str  # participant-safe
    provenance: Provenance
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)  # split -> metric -> Score
    private: str | None = None  # age-armored JSON of private scores until the reveal
    detail: str | None = None  # maintainer-only detail, age-armored (never in clear)
    team: str | None = None
    user_id: int | None = None
    baseline: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    ladder: LadderStats | None = None
    cache_key: str = ""
    schema_version: int = 1
    supersedes: str | None = None  # evaluation_id of the record this one corrects (a reveal)

    @property
    def entrant(self) -> str:
        return self.team or self.participant
