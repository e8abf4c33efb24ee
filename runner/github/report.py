"""The ``report`` step: turn a plan and its records into comments, statuses and labels.

For every challenge the pull request touches there is one sticky comment (``sticky``). An
item with a record reports the record's status; an ``invalid`` item reports its problems;
a ``ready`` item without a record means the evaluation jobs failed: that is the platform's
``error``, said plainly, and it does not count against limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from runner.github.comment import CommentData, LimitsLine, MetricLine, Standing, render_comment
from runner.github.prepare import POLICY_ID, Item, Plan
from runner.models import Challenge, Result

STATUS_ORDER = ("error", "invalid", "failed", "timeout", "oom", "over_limit", "pending", "scored")


@dataclass(frozen=True)
class Report:
    challenge: str
    status: str
    body: str
    description: str  # for the commit status (short, participant-safe)


def item_status(item: Item, result: Result | None, pending: bool) -> str:
    if result is not None:
        return result.status
    if item.status in ("invalid", "over_limit"):
        return item.status
    return "pending" if pending else "error"


def metric_lines(
    challenge: Challenge, result: Result, split: str = "public"
) -> tuple[MetricLine, ...]:
    from runner.scoring import metric_display

    scores = result.scores.get(split, {})
    lines = []
    for i, spec in enumerate(challenge.metrics):
        score = scores.get(spec.name)
        if score is None:
            continue
        _, precision = metric_display(challenge, spec)
        lines.append(
            MetricLine(spec.name, score.value, score.ci_low, score.ci_high, precision, i == 0)
        )
    return tuple(lines)


def _board_entries(challenge: Challenge, result: Result, results: Iterable[Result], now):
    """(ranked entries, the result's entrant's entry) on the public board, or None."""
    from runner.leaderboard import build_board

    phase = challenge.phase_at(result.created_at)
    if phase is None or result.status != "scored":
        return None
    board = build_board(challenge, [*results, result], phase, split="public", now=now)
    ranked = [e for e in board.entries if e.rank is not None]
    if not ranked:
        return None
    mine = next((e for e in ranked if e.result.evaluation_id == result.evaluation_id), None)
    return ranked, mine or next((e for e in ranked if e.entrant == result.entrant), None)


def released_scores(
    challenge: Challenge, result: Result, results: Iterable[Result], now: datetime
) -> Result:
    """The record whose public scores the comment may show.

    With the Ladder on, only the score the Ladder released for the entrant may be shown:
    the submission's own score would leak exactly what the Ladder hides.
    """
    if not challenge.leaderboard.ladder:
        return result
    found = _board_entries(challenge, result, results, now)
    mine = found[1] if found else None
    if mine is None:
        return result
    return replace(result, scores={**result.scores, "public": dict(mine.scores)})


def standing(
    challenge: Challenge, result: Result, results: Iterable[Result], now: datetime
) -> Standing | None:
    """Provisional rank of the result's entrant on the public board, and the leader."""
    from runner.scoring import metric_display

    found = _board_entries(challenge, result, results, now)
    if found is None:
        return None
    ranked, mine = found
    leader = ranked[0]
    primary = challenge.primary.name
    higher, _ = metric_display(challenge, challenge.primary)
    leader_score = leader.scores.get(primary)
    return Standing(
        rank=mine.rank if mine else None,
        entrants=len(ranked),
        leader=leader.entrant,
        leader_value=leader_score.value if leader_score else None,
        higher_is_better=higher,
    )


def limits_line(
    challenge: Challenge, entrant: str, results: Iterable[Result], now: datetime
) -> LimitsLine | None:
    from runner.limits import check_limits

    phase = challenge.phase_at(now)
    if phase is None:
        return None
    status = check_limits(challenge, phase, list(results), entrant, now)
    return LimitsLine(status.left_today, status.left_total, status.resets_at)


def build_reports(
    plan: Plan,
    challenges: Mapping[str, Challenge],
    new_results: Mapping[str, Result],
    existing: Iterable[Result],
    *,
    pending: bool = False,
    now: datetime | None = None,
) -> list[Report]:
    """One report per challenge in the plan (items of a challenge: the worst status wins,
    and the comment shows it; the others are listed as problems or in the table)."""
    now = now or datetime.now(UTC)
    fresh = {r.evaluation_id for r in new_results.values()}
    event = plan.event
    run = _Run(
        head=event.head_sha if event else "0" * 40,
        run_url=event.run_url if event else None,
        author=event.author_login if event else None,
        pending=pending,
        now=now,
        existing=tuple(r for r in existing if r.evaluation_id not in fresh),  # no doubles
    )
    reports = []
    for challenge_id in dict.fromkeys(i.challenge for i in plan.items):
        items = [i for i in plan.items if i.challenge == challenge_id]
        pairs = [(i, new_results.get(i.key)) for i in items]
        pairs.sort(key=lambda p: STATUS_ORDER.index(item_status(p[0], p[1], pending)))
        reports.append(_report(pairs, challenges.get(challenge_id), run))
    return reports


@dataclass(frozen=True)
class _Run:
    head: str
    run_url: str | None
    author: str | None
    pending: bool
    now: datetime
    existing: tuple[Result, ...]


def _title(item: Item, challenge: Challenge | None, status: str) -> str:
    if challenge is not None:
        return challenge.title
    if item.challenge == POLICY_ID:
        return "Submission rules" if status == "invalid" else "Evaluation"
    return item.challenge


def _report(pairs: list, challenge: Challenge | None, run: _Run) -> Report:
    item, result = pairs[0]
    status = item_status(item, result, run.pending)
    entrant = item.team or item.participant
    seen = [*run.existing, *([result] if result else [])]
    data = CommentData(
        challenge=item.challenge,
        title=_title(item, challenge, status),
        head_sha=run.head,
        status=status,
        participant=item.participant or run.author or "—",
        submission=item.name or (item.manifest.rsplit("/", 1)[-1] or "this pull request"),
        team=item.team,
        phase=result.phase if result else None,
        description=item.description,
        message=_message(status, result),
        ci_level=challenge.leaderboard.ci if challenge else None,
        metrics=metric_lines(challenge, released_scores(challenge, result, run.existing, run.now))
        if challenge and result
        else (),
        standing=standing(challenge, result, run.existing, run.now)
        if challenge and result
        else None,
        problems=tuple(_problem_text(p) for i, _ in pairs for p in i.problems),
        limits=limits_line(challenge, entrant, seen, run.now) if challenge and entrant else None,
        run_url=run.run_url,
    )
    return Report(item.challenge, status, render_comment(data), _describe(status, result))


def _problem_text(problem: dict) -> str:
    where = problem.get("file") or ""
    if where and problem.get("line"):
        where += f":{problem['line']}"
    return f"{where}: {problem['message']}" if where else problem["message"]


def _message(status: str, result: Result | None) -> str:
    if result is not None and status != "scored":
        return result.message
    if status == "error" and result is None:
        return "the evaluation jobs did not finish; see the workflow run"
    return ""


def _describe(status: str, result: Result | None) -> str:
    if status == "scored" and result is not None:
        return "scored"
    return {
        "pending": "evaluating",
        "invalid": "invalid submission",
        "over_limit": "over the limit (not evaluated, not counted)",
        "error": "platform error (not counted)",
    }.get(status, f"submission {status}")
