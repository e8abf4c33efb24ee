"""Result records as JSON objects and back (the schema's field order)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from runner.errors import RecordError
from runner.models import LadderStats, Provenance, Result, Score
from runner.records.check import PROVENANCE_KEYS, check_record

# ---------------------------------------------------------------- dict <-> Result


def format_time(when: datetime) -> str:
    """RFC 3339 in UTC with a 'Z' suffix (microseconds only when there are any)."""
    when = when.astimezone(UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{when.microsecond:06d}Z" if when.microsecond else f"{text}Z"


def _score_dict(score: Score) -> dict[str, float | None]:
    return {"value": score.value, "ci_low": score.ci_low, "ci_high": score.ci_high}


def scores_to_dict(scores: dict[str, Score]) -> dict[str, dict[str, float | None]]:
    """One split's scores as JSON-ready dicts (metric -> {value, ci_low, ci_high})."""
    return {metric: _score_dict(score) for metric, score in scores.items()}


def scores_from_dict(data: dict[str, dict[str, Any]]) -> dict[str, Score]:
    """The inverse of ``scores_to_dict`` (input already checked)."""
    return {m: Score(s["value"], s["ci_low"], s["ci_high"]) for m, s in data.items()}


def result_to_dict(result: Result) -> dict[str, Any]:
    """The record's JSON object, keys in schema order."""
    ladder = result.ladder
    return {
        "schema_version": result.schema_version,
        "challenge": result.challenge,
        "phase": result.phase,
        "participant": result.participant,
        "team": result.team,
        "user_id": result.user_id,
        "submission": result.submission,
        "evaluation_id": result.evaluation_id,
        "created_at": format_time(result.created_at),
        "status": result.status,
        "message": result.message,
        "scores": {split: scores_to_dict(s) for split, s in result.scores.items()},
        "private": result.private,
        "detail": result.detail,
        "baseline": result.baseline,
        "provenance": {key: getattr(result.provenance, key) for key in PROVENANCE_KEYS},
        "timings": dict(result.timings),
        "ladder": None if ladder is None else vars(ladder).copy(),
        "cache_key": result.cache_key,
        "supersedes": result.supersedes,
    }


def result_from_dict(data: Any, *, path: str | None = None) -> Result:
    """Check ``data`` structurally (``check_record``) and build the Result; RecordError if bad."""
    problem = check_record(data)
    if problem is not None:
        raise RecordError(f"not a valid result record: {problem}", path=path)
    try:
        created = datetime.fromisoformat(data["created_at"])
    except ValueError as err:
        raise RecordError(f"$.created_at: {err}", path=path) from err
    ladder = data["ladder"]
    return Result(
        challenge=data["challenge"],
        phase=data["phase"],
        participant=data["participant"],
        submission=data["submission"],
        evaluation_id=data["evaluation_id"],
        created_at=created,
        status=data["status"],
        message=data["message"],
        provenance=Provenance(**data["provenance"]),
        scores={split: scores_from_dict(s) for split, s in data["scores"].items()},
        private=data["private"],
        detail=data["detail"],
        team=data["team"],
        user_id=data["user_id"],
        baseline=data["baseline"],
        timings=data["timings"],
        ladder=None if ladder is None else LadderStats(**ladder),
        cache_key=data["cache_key"],
        schema_version=data["schema_version"],
        supersedes=data["supersedes"],
    )
