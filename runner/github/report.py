"""The ``report`` step: turn a plan and its records into comments, statuses and labels.

For every challenge the pull request touches there is one sticky comment (``sticky``) with
a row per submission. An item with a record reports the record's status; an ``invalid`` or
``over_limit`` item reports its problems; a ``ready`` item without a record means the
evaluation jobs failed: that is the platform's ``error``, said plainly, and it does not
count against limits. A scored row shows the rank that submission would have (standing for
its entrant), the entrant's best, the gaps to the leader and the best baseline (under the
Ladder only what the board released) and its site page; the limits are those left after the
pull request (its records counted, its items still running too).

In CI a record counts only once it landed on the results store: given what ``pr record``
wrote (``Outcome``), a record that did not land is reported "not recorded" (the platform's
``error``, or ``over_limit`` when a racing pull request was recorded first), never with its
score, never as ``scored``. The limits left are then the outcome's (``LimitsLeft``: the store
as recorded, with what other pull requests landed since this one's base) where it has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from runner.github.comment import (
    CommentData,
    LimitsLine,
    MetricLine,
    Standing,
    SubmissionLine,
    render_comment,
)
from runner.github.prepare import POLICY_ID, Item, Plan
from runner.github.record import LANDED, OVER_LIMIT, LimitsLeft, Outcome
from runner.loader.problems import Problem
from runner.models import Challenge, Result

if TYPE_CHECKING:
    from runner.leaderboard import Board, Entry
    from runner.models import Phase


@dataclass(frozen=True)
class Report:
    challenge: str
    status: str
    body: str
    description: str  # for the commit status (short, participant-safe)


@dataclass(frozen=True)
class NotRecorded:
    """A record that was made but did not land: what the report says instead of its score."""

    status: str  # "over_limit" (a racing pull request used the quota) or "error"
    message: str  # participant-safe
    description: str  # the commit status's


def landed_only(
    new_results: Mapping[str, Result], outcome: Outcome | None
) -> tuple[dict[str, Result], dict[str, NotRecorded]]:
    """Split the new records into those that landed and those that did not (keyed like plan
    items). Without an outcome (local runs) every record counts as landed."""
    if outcome is None:
        return dict(new_results), {}
    landed, missing = {}, {}
    for key, result in new_results.items():
        fate = outcome.fate(result.evaluation_id)
        if fate is not None and fate.state == LANDED:
            landed[key] = result
        elif fate is not None and fate.state == OVER_LIMIT:
            missing[key] = NotRecorded("over_limit", fate.message, "over the limit, not recorded")
        else:
            why = outcome.error or "the record job did not store it"
            text = f"the evaluation finished but was not recorded ({why}); it does not count"
            missing[key] = NotRecorded("error", text, "not recorded (platform error)")
    return landed, missing


def item_status(
    item: Item, result: Result | None, pending: bool, missing: NotRecorded | None = None
) -> str:
    if result is not None:
        return result.status
    if missing is not None:
        return missing.status
    if item.status in ("invalid", "over_limit"):
        return item.status
    return "pending" if pending else "error"


def metric_lines(
    challenge: Challenge, result: Result, split: str = "public"
) -> tuple[MetricLine, ...]:
    scores = result.scores.get(split, {})
    lines = []
    for i, spec in enumerate(challenge.metrics):
        score = scores.get(spec.name)
        if score is None:
            continue
        lines.append(
            MetricLine(spec.name, score.value, score.ci_low, score.ci_high, spec.precision, i == 0)
        )
    return tuple(lines)


def _board(challenge: Challenge, results: Iterable[Result], now: datetime, phase: Phase) -> Board:
    from runner.leaderboard import build_board

    return build_board(challenge, results, phase, split="public", now=now)


def _standing(
    challenge: Challenge, result: Result, seen: list[Result], now: datetime
) -> tuple[Standing | None, bool]:
    """(Standing, withheld) for a scored ``result`` with ``seen`` (the store and this PR's
    records) on the public board; withheld: the Ladder released no score of its own."""
    from runner.entrants import Entrants

    phase = challenge.phase_at(result.created_at)
    if phase is None or result.status != "scored":
        return None, False
    board = _board(challenge, seen, now, phase)
    ranked = [e for e in board.entries if e.rank is not None]
    entrants = Entrants.of(seen)
    key = entrants.ranking_key(result, challenge.leaderboard.best_of)
    mine = next(
        (e for e in ranked if entrants.ranking_key(e.result, challenge.leaderboard.best_of) == key),
        None,
    )
    withheld = board.ladder and (mine is None or mine.result.evaluation_id != result.evaluation_id)
    rank = None
    if not board.ladder:  # this submission as its entrant's only one: where would it stand?
        others = [
            r
            for r in seen
            if entrants.ranking_key(r, challenge.leaderboard.best_of) != key or r.baseline
        ]
        alone = _board(challenge, [*others, result], now, phase)
        rank = next(
            (e.rank for e in alone.entries if e.result.evaluation_id == result.evaluation_id), None
        )
    elif not withheld and mine is not None:
        rank = mine.rank
    primary = challenge.primary.name
    higher = challenge.primary.higher_is_better
    leader = ranked[0] if ranked else None
    base = next((e for e in board.entries if e.baseline and primary in e.scores), None)
    return Standing(
        rank=rank,
        entrants=len(ranked) if mine else len(ranked) + 1,
        leader=leader.entrant if leader else None,
        leader_value=_value(leader, primary),
        higher_is_better=higher,
        best_rank=mine.rank if mine else None,
        best_submission=mine.submission if mine else None,
        best_value=_value(mine, primary),
        baseline=base.submission if base else None,
        baseline_value=_value(base, primary),
    ), withheld


def _value(entry: Entry | None, metric: str) -> float | None:
    score = entry.scores.get(metric) if entry is not None else None
    return score.value if score is not None else None


def limits_lines(
    challenge: Challenge,
    items: list[Item],
    seen: list[Result],
    pending: list[Item],
    now: datetime,
    user_id: int | None = None,
    recorded: Mapping[tuple[str, str, str | None], LimitsLeft] | None = None,
) -> tuple[LimitsLine, ...]:
    """Each entrant's limits as they stand after this PR: its records counted, and its
    ready items still being evaluated counted as if they had been; ``recorded`` (what
    ``pr record`` read on the store once the records were in) wins where it has the entrant."""
    from runner.limits import Claim, admit

    if challenge.phase_at(now) is None:
        return ()
    claims = [Claim(i.participant, i.team, user_id) for i in pending]
    lines = []
    for participant, team in dict.fromkeys((i.participant, i.team) for i in items if i.participant):
        who = team or participant
        known = (recorded or {}).get((challenge.id, participant, team))
        if known is not None and not claims:
            lines.append(LimitsLine(known.left_today, known.left_total, known.resets, who))
            continue
        status = admit(challenge, seen, [*claims, Claim(participant, team, user_id)], now)[-1]
        lines.append(LimitsLine(status.left_today, status.left_total, status.resets_at, who))
    return tuple(lines)


def build_reports(
    plan: Plan,
    challenges: Mapping[str, Challenge],
    new_results: Mapping[str, Result],
    existing: Iterable[Result],
    *,
    pending: bool = False,
    now: datetime | None = None,
    site_url: str | None = None,
    outcome: Outcome | None = None,
) -> list[Report]:
    """One report per challenge in the plan: a row per submission; the worst status is the
    comment's headline, label and commit status. ``outcome``: what ``pr record`` landed
    (CI); a record it did not land is reported as not recorded (``landed_only``)."""
    now = now or datetime.now(UTC)
    new_results, missing = landed_only(new_results, outcome)
    fresh = {r.evaluation_id for r in new_results.values()}
    event = plan.event
    run = _Run(
        head=event.head_sha if event else "0" * 40,
        run_url=event.run_url if event else None,
        author=event.author_login if event else None,
        user_id=event.author_id if event else None,
        pending=pending,
        now=now,
        existing=tuple(r for r in existing if r.evaluation_id not in fresh),  # no doubles
        site_url=site_url,
        missing=missing,
        limits={x.key: x for x in outcome.limits} if outcome else {},
    )
    reports = []
    for challenge_id in dict.fromkeys(i.challenge for i in plan.items):
        items = [i for i in plan.items if i.challenge == challenge_id]
        pairs = [(i, new_results.get(i.key)) for i in items]
        reports.append(_report(pairs, challenges.get(challenge_id), run))
    return reports


@dataclass(frozen=True)
class _Run:
    head: str
    run_url: str | None
    author: str | None
    user_id: int | None
    pending: bool
    now: datetime
    existing: tuple[Result, ...]
    site_url: str | None = None
    missing: Mapping[str, NotRecorded] = field(default_factory=dict)
    limits: Mapping[tuple[str, str, str | None], LimitsLeft] = field(default_factory=dict)


def _title(item: Item, challenge: Challenge | None, status: str) -> str:
    if challenge is not None:
        return challenge.title
    if item.challenge == POLICY_ID:
        return "Submission rules" if status == "invalid" else "Evaluation"
    return item.challenge


def _report(pairs: list, challenge: Challenge | None, run: _Run) -> Report:
    seen = [*run.existing, *(r for _, r in pairs if r is not None)]
    lines = tuple(_line(item, result, challenge, seen, run) for item, result in pairs)
    first_item = pairs[0][0]
    phase = next((r.phase for _, r in pairs if r is not None and r.phase), None)
    if phase is None and challenge is not None and (now := challenge.phase_at(run.now)):
        phase = now.id
    items = [i for i, _ in pairs]
    waiting = [i for i, r in pairs if r is None and i.status == "ready" and run.pending]
    data = CommentData(
        challenge=first_item.challenge,
        title=_title(first_item, challenge, lines[0].status),
        head_sha=run.head,
        submissions=lines,
        phase=phase,
        ci_level=challenge.leaderboard.ci if challenge else None,
        limits=limits_lines(challenge, items, seen, waiting, run.now, run.user_id, run.limits)
        if challenge
        else (),
        run_url=run.run_url,
    )
    status = data.status
    worst = next(p for p in pairs if _status(p[0], p[1], run) == status)
    lost = run.missing.get(worst[0].key)
    single = lost.description if lost else _describe(status, worst[1])
    describe = f"{len(pairs)} submissions; worst: {single}" if len(pairs) > 1 else single
    return Report(first_item.challenge, status, render_comment(data), describe)


def _status(item: Item, result: Result | None, run: _Run) -> str:
    return item_status(item, result, run.pending, run.missing.get(item.key))


def _line(
    item: Item, result: Result | None, challenge: Challenge | None, seen: list[Result], run: _Run
) -> SubmissionLine:
    status = _status(item, result, run)
    lost = run.missing.get(item.key)
    standing, withheld = (None, False)
    if challenge is not None and result is not None:
        standing, withheld = _standing(challenge, result, seen, run.now)
    return SubmissionLine(
        submission=item.name or _stem(item.manifest) or "this pull request",
        participant=item.participant or _folder(item.manifest) or run.author or "—",
        status=status,
        team=item.team,
        description=item.description,
        message=lost.message if lost else _message(status, result),
        metrics=metric_lines(challenge, result) if challenge and result and not withheld else (),
        standing=standing,
        problems=tuple(_problem_text(p) for p in item.problems),
        url=_page_url(run.site_url, result),
        withheld=withheld,
    )


def _stem(manifest: str) -> str:
    """The submission's name when its manifest could not be read: the file's stem."""
    name = manifest.rsplit("/", 1)[-1]
    return name[: -len(".yaml")] if name.endswith(".yaml") else name


def _folder(manifest: str) -> str:
    parts = manifest.split("/")  # submissions/<challenge>/<folder>/<name>.yaml
    return parts[2] if len(parts) == 4 else ""


def _page_url(site_url: str | None, result: Result | None) -> str | None:
    if not site_url or result is None:
        return None
    from runner.site.urls import submission_url

    page = submission_url(result.challenge, result.participant, result.submission)
    return site_url.rstrip("/") + "/" + page


def _problem_text(problem: Problem) -> str:
    """``file:line: $.path: message`` for the comment (the comment escapes it)."""
    where = problem.path
    if where and problem.line:
        where += f":{problem.line}"
    message = f"{problem.json_path}: {problem.message}" if problem.json_path else problem.message
    return f"{where}: {message}" if where else message


def _message(status: str, result: Result | None) -> str:
    if result is not None and status != "scored":
        return result.message
    if status == "error" and result is None:
        return "the evaluation jobs did not finish; see the workflow run"
    return ""


def _describe(status: str, result: Result | None, count: int = 1) -> str:
    if count > 1:
        return f"{count} submissions; worst: " + _describe(status, result)
    if status == "scored" and result is not None:
        return "scored"
    return {
        "pending": "evaluating",
        "invalid": "invalid submission",
        "over_limit": "over the limit (not evaluated, not counted)",
        "error": "platform error (not counted)",
    }.get(status, f"submission {status}")
