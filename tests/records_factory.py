"""Builders of Challenge, Phase and Result objects for the records/leaderboard/limits tests.

Plain functions with keyword overrides, so each test states only what it is about.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from pathlib import Path

from runner.models import (
    Challenge,
    HiddenDataSpec,
    LeaderboardSpec,
    Limits,
    MetricSpec,
    Phase,
    PredictionColumn,
    PredictionsSpec,
    Provenance,
    Result,
    Score,
)

_counter = itertools.count()


def utc(text: str) -> datetime:
    """'2026-12-01T10:00' -> an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


OPEN = Phase(
    id="open",
    start=utc("2026-12-01T00:00"),
    end=utc("2027-03-01T00:00"),
    leaderboard="public",
    limits=Limits(per_day=5, total=100),
)
FINAL = Phase(
    id="final",
    start=utc("2027-03-01T00:00"),
    end=utc("2027-03-08T00:00"),
    leaderboard="private",
    selection=2,
)


def challenge(**overrides) -> Challenge:
    """A breast-cancer-like challenge: roc_auc (primary), log_loss, accuracy."""
    fields = dict(
        id="bc",
        title="Breast cancer",
        summary="Predict malignancy.",
        root=Path("/nonexistent/challenges/bc"),
        maintainers=("octocat",),
        predictions=PredictionsSpec("id", (PredictionColumn("malignant", "probability"),)),
        metrics=(
            MetricSpec("roc_auc", "malignant"),
            MetricSpec("log_loss", "malignant"),
            MetricSpec("accuracy", "malignant"),
        ),
        phases=(OPEN, FINAL),
        hidden=HiddenDataSpec(source="hidden.tar.age", key_env="BC_KEY"),
        leaderboard=LeaderboardSpec(),
        sha256=sha("challenge"),
    )
    fields.update(overrides)
    return Challenge(**fields)


def scores(**values: float) -> dict[str, Score]:
    """metric=value pairs -> Scores with a +/-0.02 interval."""
    return {name: Score(value, value - 0.02, value + 0.02) for name, value in values.items()}


def result(**overrides) -> Result:
    """A scored record in phase open; every field overridable."""
    n = next(_counter)
    created = overrides.pop("created_at", utc("2026-12-05T12:00"))
    fields = dict(
        challenge="bc",
        phase="open",
        participant="alice",
        submission="gbm",
        evaluation_id=f"{created:%Y%m%dT%H%M%SZ}-{n:08x}",
        created_at=created,
        status="scored",
        message="scored",
        provenance=Provenance(
            runner_version="0.1.0",
            challenge_sha256=sha("challenge"),
            data_sha256=sha("data"),
            manifest_sha256=sha(f"manifest{n}"),
            predictions_sha256=sha(f"predictions{n}"),
        ),
        scores={"public": scores(roc_auc=0.9, log_loss=0.3, accuracy=0.85)},
        cache_key=sha(f"key{n}"),
        timings={"prepare": 0.1, "score": 0.5},
    )
    fields.update(overrides)
    return Result(**fields)
