"""The report step: one comment per challenge with a row per submission of the PR."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from records_factory import challenge, result, scores, utc

from runner.github.prepare import Item, Plan
from runner.github.report import build_reports
from runner.loader.problems import Problem
from runner.models import LadderStats, LeaderboardSpec

NOW = utc("2026-12-05T18:30")
CH = challenge()
SITE = "https://org.github.io/challenges"


def item(name: str, status: str = "ready", participant: str = "alice", **kw) -> Item:
    return Item("bc", f"submissions/bc/{participant}/{name}.yaml", status, participant,
                name=name, kind="predictions", **kw)  # fmt: skip


def rec(name: str, auc: float, hour: int, participant: str = "alice", **kw):
    return result(
        participant=participant,
        submission=name,
        created_at=utc("2026-12-05T00:00") + timedelta(hours=hour),
        scores=kw.pop("scores", {"public": scores(roc_auc=auc, log_loss=0.3, accuracy=0.8)}),
        **kw,
    )


def report(items, new, existing=(), challenge=CH, **kw):
    plan = Plan(tuple(items), kw.pop("event", None))
    [only] = build_reports(
        plan, {"bc": challenge}, new, list(existing), now=NOW, site_url=SITE, **kw
    )
    return only


def test_each_submission_of_a_pr_is_a_row_with_its_own_rank():
    existing = [rec("xgb", 0.97, 1), rec("rf", 0.95, 2, participant="bob"),
                rec("logreg", 0.90, 3, participant="octocat", baseline=True)]  # fmt: skip
    new = {
        "bc/alice/gbm": rec("gbm", 0.93, 10),  # not alice's best (xgb): alone it ranks 2nd
        "bc/alice/crash": rec("crash", 0, 11, status="failed", scores={},
                              message="the container exited with a non-zero code"),
        "bc/alice/slow": rec("slow", 0, 12, status="timeout", scores={}, message="timed out"),
    }  # fmt: skip
    items = [
        item("gbm"),
        item("crash"),
        item("slow"),
        item("bad", "invalid", problems=(Problem("b.yaml", 2, 1, "$.name", "bad"),)),
        item("m9", "over_limit", problems=(Problem("m9.yaml", None, None, "", "over the limit"),)),
    ]  # fmt: skip
    got = report(items, new, existing)
    assert got.status == "invalid"
    assert got.description == "5 submissions; worst: invalid submission"
    body = got.body
    assert (
        "### ❌ Breast cancer — 5 submissions: 1 invalid submission, 1 submission failed, "
        "1 submission timed out, 1 over the limit, 1 scored"
    ) in body
    assert (
        f"| [gbm]({SITE}/challenges/bc/submissions/alice/gbm.html) | alice | ✅ scored | "
        "0.9300 [0.9100, 0.9500] | 2 of 2 | rank 1: xgb 0.9700 | 0.0400 behind alice | "
        "0.0300 ahead of logreg |"
    ) in body
    assert "| crash | alice | ❌ submission failed | — | — | — | — | — |" in body
    assert "| slow | alice | ⏱️ submission timed out | — | — | — | — | — |" in body
    assert "| bad | alice | ❌ invalid submission | — | — | — | — | — |" in body
    assert "| m9 | alice | 🚫 over the limit | — | — | — | — | — |" in body
    assert "> the container exited with a non\\-zero code" in body
    assert "- b\\.yaml\\:2\\: \\$\\.name\\: bad" in body
    # xgb, gbm, crash and slow count today; bad and m9 were not evaluated.
    assert "**Limits after this pull request** · 1 evaluation left today" in body


def test_pending_items_count_in_the_limits_shown_while_they_run():
    items = [item(f"m{n}") for n in range(4)]
    body = report(items, {}, pending=True).body
    assert "### ⏳ Breast cancer — 4 submissions: 4 evaluating" in body
    assert "· 1 evaluation left today" in body


def test_under_the_ladder_an_unreleased_submission_shows_no_score_of_its_own():
    base = challenge(leaderboard=LeaderboardSpec(ladder=True))
    ladder_ch = replace(base, metrics=(base.metrics[1], base.metrics[0]))  # log_loss first

    def loss_rec(name, loss, hour):
        return rec(name, 0.9, hour, scores={"public": scores(log_loss=loss, roc_auc=0.9)},
                   ladder=LadderStats(loss, 0.4, 400))  # fmt: skip

    first, probe = loss_rec("first", 0.5, 1), loss_rec("probe", 0.4917, 10)
    body = report([item("probe")], {"bc/alice/probe": probe}, [first], challenge=ladder_ch).body
    assert "| not released (Ladder) |" in body
    assert "0.4917" not in body and "0.492" not in body
    assert "rank 1: first 0.500" in body  # the released score stands
