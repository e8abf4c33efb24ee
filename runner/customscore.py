"""Custom metrics: the challenge's ``scoring.py`` (trusted maintainer code).

``score(truth, predictions) -> dict`` gets id-aligned pandas DataFrames (the split column
included) once per split and once per interval bucket (``CUSTOM_BUCKETS`` disjoint random
parts of the split; their spread gives the interval). Every call is a *part*: the parts are
listed first and then scored together, in this process, or, when the challenge declares
``scoring_image``, in one sandboxed run of that image (``runner.program.scorer``), which
gets the truth but no network. What ``score`` returns is checked here in both cases.

A failure on a split is the platform's fault (``ScoringError``: status ``error``); on a bucket
it only drops the interval (the metric may be undefined on a small part).
"""

from __future__ import annotations

import importlib.util
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runner import confidence
from runner.models import Challenge, Score

CUSTOM_BUCKETS = 16


@dataclass(frozen=True)
class Part:
    """One call of ``score``: the rows of ``split``, or of one of its buckets."""

    split: str
    rows: np.ndarray
    bucket: int | None = None

    @property
    def where(self) -> str:
        return self.split if self.bucket is None else "bucket"


def custom_scores(
    challenge: Challenge, truth: Any, predictions: Any, masks: dict[str, np.ndarray], seed: int
) -> dict[str, dict[str, Score]]:
    """Scores of the challenge's custom metrics per split, with their intervals."""
    from runner.scoring import ScoringError

    names = [spec.name for spec in challenge.metrics if spec.custom]
    if not names:
        return {}
    if challenge.scoring is None:
        raise ScoringError(f"custom metric(s) {names} declared but the challenge has no scoring.py")
    # The scorer's contract is pandas: convert here only, once for every split and bucket.
    truth, predictions = truth.to_pandas(), predictions.to_pandas()
    parts = _parts(challenge, masks, names, np.random.default_rng(seed))
    if challenge.scoring_image:
        from runner.program.scorer import score_in_image

        raw = score_in_image(challenge, truth, predictions, [p.rows for p in parts])
    else:
        raw = _score_here(load_scorer(challenge.scoring), truth, predictions, parts)
    results = [_checked(result, names, part.where) for result, part in zip(raw, parts, strict=True)]
    out = {}
    for split in masks:
        (value,) = [
            r for r, p in zip(results, parts, strict=True) if p.split == split and p.bucket is None
        ]
        if isinstance(value, ScoringError):
            raise value
        buckets = [
            r
            for r, p in zip(results, parts, strict=True)
            if p.split == split and p.bucket is not None
        ]
        bounds = _bounds(challenge, names, value, buckets)
        out[split] = {name: _plain(value[name], *bounds[name]) for name in names}
    return out


def _parts(
    challenge: Challenge, masks: dict[str, np.ndarray], names: list[str], rng: Any
) -> list[Part]:
    """Each split, then (where an interval is wanted) its buckets, in the order the random
    generator has always drawn them."""
    specs = {spec.name: spec for spec in challenge.metrics}
    wants_interval = any(specs[name].interval for name in names)
    parts = []
    for split, mask in masks.items():
        rows = np.flatnonzero(mask)
        parts.append(Part(split, rows))
        if len(rows) >= 2 * CUSTOM_BUCKETS and wants_interval:
            buckets = np.array_split(rng.permutation(rows), CUSTOM_BUCKETS)
            parts += [Part(split, np.sort(b), i) for i, b in enumerate(buckets)]
    return parts


def load_scorer(path: Path) -> Callable:
    """The ``score`` function of a challenge's scoring.py (trusted maintainer code)."""
    from runner.scoring import ScoringError

    try:
        spec = importlib.util.spec_from_file_location(
            f"challenge_scoring_{abs(hash(str(path)))}", path
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path} as a Python module")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        score = module.score
    except Exception as err:  # any failure of maintainer code is the platform's fault
        raise ScoringError(f"{path}: cannot load score():\n{traceback.format_exc()}") from err
    if not callable(score):
        raise ScoringError(f"{path}: `score` is not a function")
    return score


def _score_here(score: Callable, truth: Any, predictions: Any, parts: list[Part]) -> list[Any]:
    """``score`` on every part in this process: its result, or the exception's traceback."""
    results: list[Any] = []
    for part in parts:
        part_truth = truth.iloc[part.rows].reset_index(drop=True)
        part_pred = predictions.iloc[part.rows].reset_index(drop=True)
        try:
            results.append(score(part_truth, part_pred))
        except Exception:  # maintainer code: any failure is reported with its traceback
            results.append(RaisedIn(traceback.format_exc()))
    return results


@dataclass(frozen=True)
class RaisedIn:
    """``score`` raised on a part; the traceback."""

    traceback: str


@dataclass(frozen=True)
class NotADict:
    """``score`` returned something other than a dict, in a scoring image: its type's name."""

    type_name: str


def _checked(result: Any, names: list[str], where: str) -> Any:
    """The metric values ``score`` returned on a part, or the ``ScoringError`` saying why
    they cannot be used."""
    from runner.scoring import ScoringError

    if isinstance(result, RaisedIn):
        return ScoringError(f"score() raised on the {where} split:\n{result.traceback}")
    if not isinstance(result, dict):
        kind = result.type_name if isinstance(result, NotADict) else type(result).__name__
        return ScoringError(f"score() returned {kind}, not a dict, on the {where} split")
    values = {}
    for name in names:
        if name not in result:
            return ScoringError(
                f"score() returned no {name!r} on the {where} split "
                f"(keys: {sorted(map(str, result))})"
            )
        value = result[name]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            return ScoringError(
                f"score() returned {value!r} for {name!r} on the {where} split; "
                "need a finite number"
            )
        values[name] = number
    return values


def _bounds(
    challenge: Challenge, names: list[str], values: dict[str, float], buckets: list[Any]
) -> dict[str, tuple[float | None, float | None]]:
    from runner.scoring import ScoringError

    specs = {spec.name: spec for spec in challenge.metrics}
    if not buckets or any(isinstance(b, ScoringError) for b in buckets):
        return {name: (None, None) for name in names}  # undefined on small buckets: no interval
    level = challenge.leaderboard.ci
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for name in names:
        if not specs[name].interval:
            bounds[name] = (None, None)
            continue
        low, high = confidence.bucket_bounds(
            np.array([v[name] for v in buckets]), values[name], level
        )
        limits = specs[name].range
        if limits is not None:  # e.g. a 0-99 metric never shows [77.7, 116.3]
            floor, ceiling = limits
            low, high = min(max(low, floor), ceiling), min(max(high, floor), ceiling)
        bounds[name] = (low, high)
    return bounds


def _plain(value: float, low: float | None = None, high: float | None = None) -> Score:
    """A Score of built-in floats: numpy scalars are not JSON numbers for the record."""
    return Score(float(value), *(None if v is None else float(v) for v in (low, high)))
