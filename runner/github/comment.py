"""The body of the sticky pull-request comment, as a pure function of ``CommentData``.

The template is ``runner/templates/comment.md.j2``. Every participant-controlled string is
escaped with ``escape.md_text`` before it reaches the template, and the Jinja environment's
``finalize`` escapes any plain string that still gets there: only values this module marks
``Safe`` (numbers it formatted, the run URL from the environment, the marker) go out as
they are. The body stays under GitHub's 65,536-character limit: long sections are cut first,
then the body itself, always with a pointer to the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jinja2

from runner import __version__
from runner.github.escape import md_text
from runner.github.statuses import STATUS_ORDER, WORDING

GITHUB_LIMIT = 65_536
DEFAULT_CAP = 65_000  # a margin below GitHub's limit


@dataclass(frozen=True)
class MetricLine:
    name: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    precision: int = 4
    primary: bool = False


@dataclass(frozen=True)
class Standing:
    """One submission against the current public board (with this PR's records on it)."""

    rank: int | None  # this submission's rank, had it stood for its entrant
    entrants: int
    leader: str | None = None
    leader_value: float | None = None
    higher_is_better: bool = True
    best_rank: int | None = None  # the entrant's own best on the board
    best_submission: str | None = None
    best_value: float | None = None
    baseline: str | None = None  # the best baseline on the board
    baseline_value: float | None = None


@dataclass(frozen=True)
class LimitsLine:
    left_today: int | None
    left_total: int | None = None
    resets_at: datetime | None = None
    who: str = ""  # the entrant these limits are for (participant-controlled)


@dataclass(frozen=True)
class SubmissionLine:
    """One submission of the pull request; strings may be participant-controlled."""

    submission: str
    participant: str
    status: str  # one of runner.models.STATUSES, "pending" or "over_limit"
    team: str | None = None
    description: str = ""
    message: str = ""
    metrics: tuple[MetricLine, ...] = ()
    standing: Standing | None = None
    problems: tuple[str, ...] = ()
    url: str | None = None  # its page on the site
    withheld: bool = False  # the Ladder released no score of its own (see report)


@dataclass(frozen=True)
class CommentData:
    """Everything one challenge's comment shows: a row per submission of the PR."""

    challenge: str
    title: str
    head_sha: str
    submissions: tuple[SubmissionLine, ...]
    phase: str | None = None
    split: str = "public"
    ci_level: float | None = 0.95
    limits: tuple[LimitsLine, ...] = ()
    run_url: str | None = None

    @property
    def status(self) -> str:
        """The worst status among the submissions (what the headline and labels say)."""
        statuses = [s.status for s in self.submissions] or ["error"]
        return min(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 0)


class Safe(str):
    """A string that is already safe Markdown (escaped or built from trusted values)."""


def safe_text(text: object, max_len: int) -> Safe:
    """Escape a participant-controlled string and mark it safe."""
    # Cut before escaping: escaping reads every character, and what is cut is never shown.
    return Safe(md_text(str(text)[: max_len * 4], max_len))


def marker(challenge: str, head_sha: str) -> str:
    """The hidden first line that identifies the sticky comment (``sticky`` parses it)."""
    return f"<!-- challenge-runner challenge={challenge} sha={head_sha} -->"


def utf16_len(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def render_comment(data: CommentData, cap: int = DEFAULT_CAP) -> str:
    """The comment body, always under ``cap`` UTF-16 units."""
    n = max(len(data.submissions), 1)  # many submissions share one comment's budget
    body = _template().render(
        **_context(data, desc_max=max(100, 5000 // n), problems_max=max(1, 200 // n))
    )
    if utf16_len(body) <= cap:
        return body
    body = _template().render(
        **_context(data, desc_max=max(50, 500 // n), problems_max=max(1, 30 // n), truncated=True)
    )
    return body if utf16_len(body) <= cap else _hard_cut(body, cap, data.run_url)


def _hard_cut(body: str, cap: int, run_url: str | None) -> str:
    pointer = "\n\n*Shortened to fit GitHub's limit; the full report is in the run"
    pointer += f": {_safe_url(run_url)}*\n" if run_url else ".*\n"
    budget = cap - utf16_len(pointer) - 32
    cut = body[:budget]
    while utf16_len(cut) > budget:
        cut = cut[: -max(1, (utf16_len(cut) - budget))]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    if cut.count("<details>") > cut.count("</details>"):
        cut += "\n\n</details>"
    return cut + pointer


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("runner", "templates"),
        autoescape=False,  # noqa: S701 - Markdown, not HTML: md_text and finalize escape
        finalize=lambda value: value if isinstance(value, Safe) else md_text(value),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("comment.md.j2")


def _safe_url(url: str | None) -> Safe | None:
    """The run URL comes from GITHUB_SERVER_URL/REPOSITORY/RUN_ID, but check it anyway."""
    if (
        not url
        or not url.startswith(("https://", "http://"))
        or any(c in url for c in " ()<>[]\"'")
    ):
        return None
    return Safe(url)


def fmt(value: float | None, precision: int) -> Safe:
    if value is None or not math.isfinite(value):
        return Safe("—")
    return Safe(f"{value:.{precision}f}")


def _context(
    data: CommentData, *, desc_max: int, problems_max: int, truncated: bool = False
) -> dict:
    status = data.status
    icon, headline_status, _ = WORDING.get(status, WORDING["error"])
    subs = data.submissions
    return {
        "marker": Safe(marker(data.challenge, data.head_sha)),
        "icon": Safe(icon),
        "headline_status": Safe(headline_status if len(subs) == 1 else _counts(subs)),
        "challenge_title": safe_text(data.title, 200),
        "short_sha": Safe(data.head_sha[:7] if data.head_sha.strip("0") else "(local)"),
        "phase": safe_text(data.phase, 60) if data.phase else None,
        "table": _table(data) if len(subs) > 1 or any(s.status == "scored" for s in subs) else None,
        "subs": [_sub(s, data, desc_max, problems_max) for s in subs],
        "split": safe_text(data.split, 20),
        "ci_label": _ci_label(data.ci_level),
        "limits": [_limits(line, len(data.limits) > 1) for line in data.limits],
        "truncated": truncated,
        "run_url": _safe_url(data.run_url),
        "version": Safe(__version__),
    }


def _counts(subs: tuple[SubmissionLine, ...]) -> str:
    seen: dict[str, int] = {}
    for sub in sorted(subs, key=lambda s: STATUS_ORDER.index(s.status)):
        seen[sub.status] = seen.get(sub.status, 0) + 1
    parts = [f"{n} {WORDING.get(st, WORDING['error'])[1]}" for st, n in seen.items()]
    return f"{len(subs)} submissions: " + ", ".join(parts)


def _ci_label(level: float | None) -> Safe:
    return Safe(f"{level:.0%} CI" if level else "CI")


def _primary(sub: SubmissionLine) -> MetricLine | None:
    return next((m for m in sub.metrics if m.primary), sub.metrics[0] if sub.metrics else None)


def _link(sub: SubmissionLine) -> Safe:
    name = safe_text(sub.submission, 100)
    url = _safe_url(sub.url)
    return Safe(f"[{name}]({url})") if url and sub.status == "scored" else name


def _table(data: CommentData) -> dict:
    primary = next((_primary(s) for s in data.submissions if _primary(s)), None)
    header = safe_text(primary.name, 60) if primary else Safe("score")
    return {"metric": header, "rows": [_table_row(s) for s in data.submissions]}


def _table_row(sub: SubmissionLine) -> dict:
    icon, words, _ = WORDING.get(sub.status, WORDING["error"])
    m, st = _primary(sub), sub.standing
    scored = sub.status == "scored" and m is not None and not sub.withheld
    return {
        "name": _link(sub),
        "entrant": safe_text(sub.team or sub.participant, 100),
        "status": Safe(f"{icon} {words}"),
        "score": _score_cell(m)
        if scored and m is not None
        else Safe("not released (Ladder)" if sub.withheld else "—"),
        "rank": Safe(f"{st.rank} of {st.entrants}") if scored and st and st.rank else Safe("—"),
        "best": _best_cell(st, m),
        "leader": _gap(m, st.leader_value, st.leader, st) if scored and st else Safe("—"),
        "baseline": _gap(m, st.baseline_value, st.baseline, st) if scored and st else Safe("—"),
    }


def _score_cell(m: MetricLine) -> Safe:
    if m.ci_low is None or m.ci_high is None:
        return fmt(m.value, m.precision)
    ci = f"[{fmt(m.ci_low, m.precision)}, {fmt(m.ci_high, m.precision)}]"
    return Safe(f"{fmt(m.value, m.precision)} {ci}")


def _best_cell(st: Standing | None, m: MetricLine | None) -> Safe:
    if st is None or st.best_rank is None:
        return Safe("—")
    precision = m.precision if m else 4
    name = md_text(st.best_submission or "", 100)
    return Safe(f"rank {st.best_rank}: {name} {fmt(st.best_value, precision)}")


def _gap(m: MetricLine | None, other: float | None, who: str | None, st: Standing) -> Safe:
    """How far this submission is ahead of (or behind) ``other``, in the metric's direction."""
    if m is None or m.value is None or other is None or who is None:
        return Safe("—")
    ahead = (m.value - other) if st.higher_is_better else (other - m.value)
    name = md_text(who, 100)
    if ahead == 0:
        return Safe(f"level with {name}")
    word = "ahead of" if ahead > 0 else "behind"
    return Safe(f"{fmt(abs(ahead), m.precision)} {word} {name}")


def _sub(sub: SubmissionLine, data: CommentData, desc_max: int, problems_max: int) -> dict:
    icon, headline_status, wording = WORDING.get(sub.status, WORDING["error"])
    shown = sub.problems[:problems_max]
    scored = sub.status == "scored" and not sub.withheld
    return {
        "icon": Safe(icon),
        "headline_status": Safe(headline_status),
        "wording": Safe(wording),
        "submission": _link(sub),
        "entrant": safe_text(sub.team or sub.participant, 100),
        "team": bool(sub.team),
        "message": safe_text(sub.message, 1000) if sub.message else None,
        "headline": _headline(m, data.ci_level) if scored and (m := _primary(sub)) else None,
        "rank": Safe(str(sub.standing.rank))
        if scored and sub.standing and sub.standing.rank
        else None,
        "entrants": Safe(str(sub.standing.entrants)) if sub.standing else None,
        "delta": _delta(_primary(sub), sub.standing) if scored else None,
        "metrics": [_row(m) for m in sub.metrics] if scored else [],
        "problems": [safe_text(p, max(100, min(500, desc_max // 2))) for p in shown],
        "problem_count": len(sub.problems),
        "problems_title": Safe("Why" if sub.status == "over_limit" else "What to fix"),
        "problems_cut": len(sub.problems) - len(shown),
        "description": safe_text(sub.description, desc_max) if sub.description else None,
    }


def _row(m: MetricLine) -> dict:
    ci = (
        Safe(f"[{fmt(m.ci_low, m.precision)}, {fmt(m.ci_high, m.precision)}]")
        if m.ci_low is not None
        else Safe("—")
    )
    return {
        "name": safe_text(m.name, 60),
        "primary": m.primary,
        "value": fmt(m.value, m.precision),
        "ci": ci,
    }


def _headline(m: MetricLine, ci_level: float | None) -> dict:
    ci = None
    if m.ci_low is not None and m.ci_high is not None:
        label = f"{ci_level:.0%} CI " if ci_level else "CI "
        ci = Safe(f"{label}{fmt(m.ci_low, m.precision)} – {fmt(m.ci_high, m.precision)}")
    return {"name": safe_text(m.name, 60), "value": fmt(m.value, m.precision), "ci": ci}


def _delta(m: MetricLine | None, standing: Standing | None) -> Safe | None:
    if m is None or m.value is None or standing is None or standing.leader_value is None:
        return None
    if standing.rank == 1:
        return Safe("this submission leads the board")
    gap = abs(standing.leader_value - m.value)
    leader = md_text(standing.leader or "the leader", 100)
    return Safe(f"{fmt(gap, m.precision)} behind the leader ({leader})")


def _limits(limits: LimitsLine, named: bool) -> Safe:
    parts = []
    if limits.left_today is not None:
        reset = f" (resets {limits.resets_at:%Y-%m-%d %H:%M} UTC)" if limits.resets_at else ""
        plural = "s" if limits.left_today != 1 else ""
        parts.append(f"{limits.left_today} evaluation{plural} left today{reset}")
    if limits.left_total is not None:
        parts.append(f"{limits.left_total} left in this phase")
    text = " · ".join(parts) or "no limits in this phase"
    return Safe(f"{md_text(limits.who, 100)}: {text}" if named and limits.who else text)
