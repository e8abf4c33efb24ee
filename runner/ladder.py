"""The Ladder (Blum & Hardt 2015): a public leaderboard that resists adaptive probing.

A plain board shows every submission's score, so an entrant can learn about the hidden
labels by probing (the boosting attack: submit random label vectors, keep those that score
above chance, submit their majority vote). The Ladder releases a new score for an entrant
only when it beats their best released score by more than the noise; otherwise the board
keeps showing the old one, so probes carry almost no information.

Parameter-free variant (records with ``LadderStats``: the primary metric is a mean of
per-row losses). Per entrant, in ``created_at`` order: with R the best released loss
(+inf at first), a submission with mean loss m over n rows is released when
``m < R - s / sqrt(n)``. Blum & Hardt take s = sd(l - l*), the spread of the per-row loss
*differences* to the best submission; records store only (mean, sd, n), so we take s = the
new submission's own loss sd. That needs no per-row data. It is the more conservative
threshold when successive submissions' losses are correlated (cov > var / 2, the usual case
of a refined model); for unrelated submissions (e.g. random probes) sd(l - l*) can be up to
sqrt(2) times larger, and the test of the boosting attack shows the gain stays near nothing.

Fixed-step variant (no ``LadderStats``: e.g. roc_auc, r2). A score is released when it
beats the last released one by more than a step eta, and is shown rounded to a multiple of
eta. eta is the standard error of the entrant's first scored record, read from its
confidence interval (half-width / z), so the step matches the test set's noise; without an
interval it is one display unit (10 ** -precision).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import TYPE_CHECKING

from runner.models import Challenge, Result, Score

if TYPE_CHECKING:
    from runner.models import Phase


@dataclass(frozen=True)
class Release:
    """What the board shows for an entrant: the record whose score is released, and the
    released value of the primary metric (the record's own, or rounded in the step variant)."""

    result: Result
    value: float


def _ordered(results: Sequence[Result]) -> list[Result]:
    return sorted(results, key=lambda r: (r.created_at, r.evaluation_id))


def parameter_free(results: Sequence[Result], metric: str, split: str = "public") -> Release | None:
    """Run the parameter-free Ladder over records that all carry ``ladder`` stats."""
    best_loss, best = math.inf, None
    for result in _ordered(results):
        stats = result.ladder
        assert stats is not None  # callers route records without stats to fixed_step
        margin = 0.0 if best is None else stats.loss_sd / math.sqrt(stats.n)
        if stats.loss_mean < best_loss - margin:
            best_loss, best = stats.loss_mean, result
    return None if best is None else Release(best, best.scores[split][metric].value)


def step_size(result: Result, metric: str, split: str, ci: float, precision: int) -> float:
    """eta for the fixed-step variant: the score's standard error, else one display unit."""
    score = result.scores[split][metric]
    if score.ci_low is not None and score.ci_high is not None and score.ci_high > score.ci_low:
        z = NormalDist().inv_cdf(0.5 + ci / 2)
        return (score.ci_high - score.ci_low) / (2 * z)
    return 10.0**-precision


def fixed_step(
    results: Sequence[Result],
    metric: str,
    higher_is_better: bool,
    *,
    split: str = "public",
    ci: float = 0.95,
    precision: int = 4,
) -> Release | None:
    """Run the fixed-step Ladder: release only gains larger than eta, rounded to eta."""
    ordered = _ordered(results)
    if not ordered:
        return None
    eta = step_size(ordered[0], metric, split, ci, precision)
    sign = 1.0 if higher_is_better else -1.0
    best_gain, best = -math.inf, None
    for result in ordered:
        gain = sign * result.scores[split][metric].value
        # The tolerance lets stored released values (multiples of eta) replay exactly.
        if best is None or gain > best_gain + eta * (1 - 1e-9):
            best_gain, best = round(gain / eta) * eta, result
    assert best is not None
    return Release(best, sign * best_gain)


def ladder(
    results: Sequence[Result],
    metric: str,
    higher_is_better: bool,
    *,
    split: str = "public",
    ci: float = 0.95,
    precision: int = 4,
) -> Release | None:
    """One entrant's released score: the parameter-free Ladder when every record has loss
    stats, else the fixed-step one. None when there are no records."""
    if results and all(r.ladder is not None for r in results):
        return parameter_free(results, metric, split)
    return fixed_step(results, metric, higher_is_better, split=split, ci=ci, precision=precision)


# ---------------------------------------------------------------- what a record may hold


def withhold(
    challenge: Challenge, result: Result, existing: Iterable[Result]
) -> tuple[Result, dict | None]:
    """Under the Ladder: (the record as it may be stored in clear, what it withholds).

    Records and artifacts are public, so a record may hold no more than the board shows:
    released, its primary score as the Ladder releases it (the step variant's rounded value,
    with an interval of +-z*eta that only restates the step) and its loss stats; not
    released, no public score at all. The withheld part -- exact public scores and loss
    stats -- is ``{"public": {...}, "ladder": {...} | None}`` for ``reveal`` to seal.
    The decision replays the Ladder over the entrant's released records as stored (a
    re-evaluation's original excluded), so the board, reading the same records, agrees.
    Baselines, late records and records without a primary public score are left alone.
    """
    public = result.scores.get("public", {})
    phase = challenge.phase_at(result.created_at)
    primary = challenge.primary.name
    if not challenge.leaderboard.ladder or result.baseline or phase is None:
        return result, None
    if result.status != "scored" or primary not in public:
        return result, None
    prior = _entrant_records(challenge, result, existing, phase)
    release = _replay(challenge, [*prior, result])
    if release is None or release.result.evaluation_id != result.evaluation_id:
        shown: dict = {}
        stats = None
    else:
        shown = {primary: _released_score(challenge, [*prior, result], release)}
        stats = result.ladder
    withheld = {"public": public, "ladder": None if result.ladder is None else vars(result.ladder)}
    stored = replace(result, scores={**result.scores, "public": shown}, ladder=stats)
    return stored, withheld


def _entrant_records(
    challenge: Challenge, result: Result, existing: Iterable[Result], phase: Phase
) -> list[Result]:
    from runner.entrants import Entrants
    from runner.records import current_results

    mine = [r for r in existing if r.challenge == challenge.id]
    entrants = Entrants.of([*mine, result])
    best_of = challenge.leaderboard.best_of
    key = entrants.ranking_key(result, best_of)
    return [
        r
        for r in current_results(mine)
        if r.evaluation_id != result.supersedes
        and r.status == "scored"
        and not r.baseline
        and phase.contains(r.created_at)
        and challenge.primary.name in r.scores.get("public", {})
        and entrants.ranking_key(r, best_of) == key
    ]


def _display(challenge: Challenge) -> tuple[bool, int]:
    from runner.scoring import metric_display

    return metric_display(challenge, challenge.primary)


def _replay(challenge: Challenge, records: list[Result]) -> Release | None:
    higher, precision = _display(challenge)
    ci = challenge.leaderboard.ci
    return ladder(records, challenge.primary.name, higher, ci=ci, precision=precision)


def _released_score(challenge: Challenge, records: list[Result], release: Release) -> Score:
    own = release.result.scores["public"][challenge.primary.name]
    if release.value == own.value:
        return own  # the parameter-free Ladder releases the submission's own score
    _, precision = _display(challenge)
    ci = challenge.leaderboard.ci or 0.95
    eta = step_size(_ordered(records)[0], challenge.primary.name, "public", ci, precision)
    half = NormalDist().inv_cdf(0.5 + ci / 2) * eta
    return Score(release.value, release.value - half, release.value + half)
