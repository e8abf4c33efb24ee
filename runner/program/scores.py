"""A scoring program's scores: the adapter's rows, Codabench's computed columns, and the
scores per split for each metric of the challenge (``runner.program``)."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path

from runner.models import Challenge
from runner.program.outcome import FAILED, ProgramOutcome


def read_scores(challenge: Challenge, path: Path, detail: str = "") -> ProgramOutcome:
    """The adapter's ``split,key,value`` rows as scores per split for each metric."""
    return scores_from(challenge, read_rows(path), detail)


def read_rows(path: Path) -> dict[tuple[str, str], float]:
    """The adapter's ``split,key,value`` rows: (split, key) -> value, numbers only."""
    found: dict[tuple[str, str], float] = {}
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            value = _number(row.get("value"))
            if value is not None:
                found[(row.get("split") or "", row.get("key") or "")] = value
    return found


def scores_from(
    challenge: Challenge, found: dict[tuple[str, str], float], detail: str = ""
) -> ProgramOutcome:
    """Scores per split for each metric from the program's rows (computed columns added)."""
    program = challenge.program
    assert program is not None
    found = found | computed_scores(program.computed, found)
    scores: dict[str, dict[str, float]] = {}
    missing = []
    for spec in challenge.metrics:
        key = spec.key or spec.name
        hits = [(split, v) for (split, k), v in found.items() if k == key]
        if not hits:
            missing.append(key)
        for split, value in hits:
            ours = program.split_of(split) if split else "public"
            if ours:
                scores.setdefault(ours, {})[spec.name] = value
    if missing:
        note = f"scores missing from the program's output: {', '.join(missing)}\n{detail}"
        return ProgramOutcome("invalid", FAILED, note)
    return ProgramOutcome("scored", "scored", detail, scores)


COMPUTE: dict[str, Callable[[list[float]], float]] = {
    "avg": lambda values: math.fsum(values) / len(values),
    "sum": math.fsum,
    "min": min,
    "max": max,
}


def computed_scores(
    computed: tuple[tuple[str, tuple[str, tuple[str, ...]]], ...],
    found: dict[tuple[str, str], float],
) -> dict[tuple[str, str], float]:
    """Codabench's computed columns, per split, from the scores the program wrote: a column
    is computed where every score it combines is there (else it stays missing)."""
    splits = {split for split, _ in found}
    extra = {}
    for key, (op, keys) in computed:
        for split in splits:
            values = [found.get((split, k)) for k in keys]
            if all(v is not None for v in values):
                extra[(split, key)] = COMPUTE[op]([v for v in values if v is not None])
    return extra


def _number(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None
