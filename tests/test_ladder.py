"""The Ladder: releases only real improvements, and defeats the boosting attack."""

from __future__ import annotations

import math
import statistics
from datetime import timedelta

import numpy as np
import pytest
from records_factory import OPEN, challenge, result, utc

from runner.ladder import fixed_step, ladder, parameter_free, step_size
from runner.leaderboard import build_board
from runner.models import LadderStats, LeaderboardSpec, MetricSpec, PredictionColumn, Score
from runner.models import PredictionsSpec as Spec

T0 = utc("2026-12-02T00:00")


def loss_record(i: int, loss: float, sd: float = 0.4, n: int = 400, **kw):
    return result(
        created_at=T0 + timedelta(hours=i),
        scores={"public": {"log_loss": Score(loss)}},
        ladder=LadderStats(loss, sd, n),
        **kw,
    )


def auc_record(i: int, value: float, half_width: float | None = 0.02):
    lo, hi = (None, None) if half_width is None else (value - half_width, value + half_width)
    return result(
        created_at=T0 + timedelta(hours=i), scores={"public": {"roc_auc": Score(value, lo, hi)}}
    )


def test_parameter_free_releases_only_gains_beyond_the_noise():
    # margin = 0.4 / sqrt(400) = 0.02
    records = [
        loss_record(0, 0.50),  # first: released
        loss_record(1, 0.49),  # better by 0.01 < 0.02: not released
        loss_record(2, 0.47),  # better than 0.50 by 0.03: released
        loss_record(3, 0.48),  # worse: not released
        loss_record(4, 0.455),  # better by 0.015: not released
    ]
    release = parameter_free(records, "log_loss")
    assert release.result is records[2] and release.value == 0.47
    assert parameter_free(records[:2], "log_loss").result is records[0]
    assert parameter_free([], "log_loss") is None


def test_parameter_free_uses_the_new_submissions_spread():
    # The same 0.01 gain is released when the new record's losses barely vary.
    records = [loss_record(0, 0.50), loss_record(1, 0.49, sd=0.1)]  # margin 0.005
    assert parameter_free(records, "log_loss").result is records[1]


def test_order_is_by_creation_time_not_by_list_order():
    records = [loss_record(2, 0.47), loss_record(0, 0.50), loss_record(1, 0.49)]
    assert parameter_free(records, "log_loss").result is records[0]


def test_step_size_is_the_standard_error_from_the_interval():
    eta = step_size(auc_record(0, 0.80), "roc_auc", "public", ci=0.95, precision=4)
    assert eta == pytest.approx(0.04 / (2 * 1.959963984540054))
    no_ci = step_size(auc_record(0, 0.80, None), "roc_auc", "public", ci=0.95, precision=3)
    assert no_ci == pytest.approx(0.001)


def test_fixed_step_releases_rounded_gains_above_eta():
    eta = 0.04 / (2 * 1.959963984540054)  # ~0.0102
    records = [auc_record(0, 0.80), auc_record(1, 0.805), auc_record(2, 0.815), auc_record(3, 0.82)]
    release = fixed_step(records, "roc_auc", higher_is_better=True)
    assert release.result is records[2]
    assert release.value == pytest.approx(round(0.815 / eta) * eta)
    assert abs(release.value - 0.815) <= eta / 2


def test_fixed_step_for_a_lower_is_better_metric():
    records = [
        result(created_at=T0, scores={"public": {"rmse": Score(10.0)}}),
        result(created_at=T0 + timedelta(hours=1), scores={"public": {"rmse": Score(9.5)}}),
        result(created_at=T0 + timedelta(hours=2), scores={"public": {"rmse": Score(9.9995)}}),
    ]
    release = fixed_step(records, "rmse", higher_is_better=False, precision=3)
    assert release.result is records[1] and release.value == pytest.approx(9.5)


def test_ladder_picks_the_variant_by_the_stats_available():
    with_stats = [loss_record(0, 0.5), loss_record(1, 0.49, sd=0.1)]
    assert ladder(with_stats, "log_loss", False).result is with_stats[1]
    no_stats = result(
        created_at=T0 + timedelta(hours=1), scores={"public": {"log_loss": Score(0.4999)}}
    )
    mixed = [loss_record(0, 0.5), no_stats]
    assert ladder(mixed, "log_loss", False, precision=3).result is mixed[0]  # fixed step 0.001
    assert ladder([], "log_loss", False) is None


# ---------------------------------------------------------------- the boosting attack


N_ROWS, ROUNDS, SEEDS = 1000, 100, 12


def accuracy_challenge(use_ladder: bool):
    return challenge(
        predictions=Spec("id", (PredictionColumn("label", "label"),)),
        metrics=(MetricSpec("accuracy", "label"),),
        leaderboard=LeaderboardSpec(ladder=use_ladder),
        phases=(OPEN,),
    )


def submitted(i: int, guess: np.ndarray, truth: np.ndarray):
    """The record the pipeline would write: accuracy and 0/1-loss stats on the public rows."""
    correct = guess == truth
    accuracy = float(correct.mean())
    return result(
        participant="mallory",
        submission=f"probe{i}",
        created_at=T0 + timedelta(minutes=i),
        scores={"public": {"accuracy": Score(accuracy)}},
        ladder=LadderStats(1 - accuracy, float(correct.std()), len(truth)),
    )


def attack(seed: int, use_ladder: bool) -> tuple[float, float, float]:
    """Blum & Hardt's boosting attack on the board. Returns (board score after the attack,
    board score from the same random probes without the boosting vote, true accuracy of
    the vote on fresh rows), all as public accuracy the board shows."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, N_ROWS)
    fresh_truth = rng.integers(0, 2, N_ROWS)  # the private split: what the vote really knows
    ch, records, kept, seen = accuracy_challenge(use_ladder), [], [], 0.5
    for i in range(ROUNDS - 1):
        guess = rng.integers(0, 2, N_ROWS)
        records.append(submitted(i, guess, truth))
        (entry,) = build_board(ch, records, OPEN).entries
        # Plain board: the comment shows each submission's own score. Ladder: only the
        # released one, so the attacker keeps a probe when the release moved up.
        shown = records[-1].scores["public"]["accuracy"].value if not use_ladder else None
        released = entry.scores["accuracy"].value
        if (shown if shown is not None else released) > (0.5 if shown is not None else seen):
            kept.append(guess)
        seen = released
    before_vote = build_board(ch, records, OPEN).entries[0].scores["accuracy"].value
    vote = (np.mean(kept, axis=0) > 0.5).astype(int)
    records.append(submitted(ROUNDS, vote, truth))
    after_vote = build_board(ch, records, OPEN).entries[0].scores["accuracy"].value
    return after_vote, before_vote, float((vote == fresh_truth).mean())


@pytest.fixture(scope="module")
def outcomes():
    return {lad: [attack(seed, lad) for seed in range(SEEDS)] for lad in (False, True)}


def test_boosting_attack_climbs_the_plain_board(outcomes):
    plain = outcomes[False]
    shown = statistics.mean(after for after, _, _ in plain)
    boost = statistics.mean(after - before for after, before, _ in plain)
    truly = statistics.mean(fresh for _, _, fresh in plain)
    assert shown > 0.555  # ~0.57: the board says 57% on coin flips...
    assert boost > 0.015  # ...and the majority vote beats every probe it was made from
    assert abs(truly - 0.5) < 0.02  # while it knows nothing about unseen rows
    assert all(after > before for after, before, _ in plain)


def test_boosting_attack_gains_nothing_under_the_ladder(outcomes):
    laddered, plain = outcomes[True], outcomes[False]
    boost = [after - before for after, before, _ in laddered]
    assert sum(1 for b in boost if b > 0) <= 1  # the vote is (almost) never released
    assert statistics.mean(boost) < 0.003
    shown = statistics.mean(after for after, _, _ in laddered)
    plain_shown = statistics.mean(after for after, _, _ in plain)
    plain_best_probe = statistics.mean(before for _, before, _ in plain)
    # What is left is the luck of the best single probe, which the plain board shows too
    # before the vote; the climb from boosting is gone.
    assert shown <= plain_best_probe + 0.005
    assert shown < plain_shown - 0.02
    assert math.isclose(statistics.mean(f for _, _, f in laddered), 0.5, abs_tol=0.02)
