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

GITHUB_LIMIT = 65_536
DEFAULT_CAP = 65_000  # a margin below GitHub's limit

# status -> (icon, headline, wording). The platform's failure ("error") reads differently
# from the submission's own failures: it never counts against limits.
WORDING: dict[str, tuple[str, str, str]] = {
    "pending": (
        "⏳",
        "evaluating",
        "The submission passed validation and is being evaluated; "
        "this comment is updated with the result.",
    ),
    "scored": ("✅", "scored", "Scores below are provisional until the phase ends."),
    "invalid": (
        "❌",
        "invalid submission",
        "The submission was not evaluated: fix the problems below and push again.",
    ),
    "over_limit": (
        "🚫",
        "over the limit",
        "The submission was not evaluated: it is beyond your evaluation limits (counting "
        "the other submissions of this pull request). It does not count against them; "
        "push it again when the limits allow.",
    ),
    "failed": (
        "❌",
        "submission failed",
        "Your submission ran but did not produce valid "
        "predictions. This is the submission's failure, not the platform's, and it "
        "counts against your limits.",
    ),
    "timeout": (
        "⏱️",
        "submission timed out",
        "Your submission ran past the time limit. This is "
        "the submission's failure, not the platform's, and it counts against your limits.",
    ),
    "oom": (
        "💥",
        "out of memory",
        "Your submission ran out of memory. This is the submission's "
        "failure, not the platform's, and it counts against your limits.",
    ),
    "error": (
        "⚠️",
        "platform error",
        "The platform failed, this does not count against your "
        "limits. Nothing is wrong with your submission as far as we know: a maintainer "
        "can re-run the evaluation, or push again.",
    ),
}


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
    """Where the submission would rank on the current public board."""

    rank: int | None
    entrants: int
    leader: str | None = None
    leader_value: float | None = None
    higher_is_better: bool = True


@dataclass(frozen=True)
class LimitsLine:
    left_today: int | None
    left_total: int | None = None
    resets_at: datetime | None = None


@dataclass(frozen=True)
class CommentData:
    """Everything the comment shows; strings here may be participant-controlled."""

    challenge: str
    title: str
    head_sha: str
    status: str  # one of runner.models.STATUSES, or "pending"
    participant: str
    submission: str
    team: str | None = None
    phase: str | None = None
    description: str = ""
    message: str = ""
    split: str = "public"
    ci_level: float | None = 0.95
    metrics: tuple[MetricLine, ...] = ()
    standing: Standing | None = None
    problems: tuple[str, ...] = ()
    limits: LimitsLine | None = None
    run_url: str | None = None


class Safe(str):
    """A string that is already safe Markdown (escaped or built from trusted values)."""


def safe_text(text: object, max_len: int) -> Safe:
    """Escape a participant-controlled string and mark it safe."""
    return Safe(md_text(text, max_len))


def marker(challenge: str, head_sha: str) -> str:
    """The hidden first line that identifies the sticky comment (``sticky`` parses it)."""
    return f"<!-- challenge-runner challenge={challenge} sha={head_sha} -->"


def utf16_len(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def render_comment(data: CommentData, cap: int = DEFAULT_CAP) -> str:
    """The comment body, always under ``cap`` UTF-16 units."""
    body = _template().render(**_context(data, desc_max=5000, problems_max=200))
    if utf16_len(body) <= cap:
        return body
    body = _template().render(**_context(data, desc_max=1000, problems_max=30, truncated=True))
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
    icon, headline_status, wording = WORDING.get(data.status, WORDING["error"])
    rows = [_row(m) for m in data.metrics]
    primary = next(
        (m for m in data.metrics if m.primary), data.metrics[0] if data.metrics else None
    )
    shown = data.problems[:problems_max]
    return {
        "marker": Safe(marker(data.challenge, data.head_sha)),
        "icon": Safe(icon),
        "headline_status": Safe(headline_status),
        "wording": Safe(wording),
        "challenge_title": safe_text(data.title, 200),
        "submission": safe_text(data.submission, 100),
        "entrant": safe_text(data.team or data.participant, 100),
        "team": bool(data.team),
        "short_sha": Safe(data.head_sha[:7] if data.head_sha.strip("0") else "(local)"),
        "phase": safe_text(data.phase, 60) if data.phase else None,
        "message": safe_text(data.message, 1000) if data.message else None,
        "headline": _headline(primary, data.ci_level)
        if data.status == "scored" and primary
        else None,
        "rank": Safe(str(data.standing.rank)) if data.standing and data.standing.rank else None,
        "entrants": Safe(str(data.standing.entrants)) if data.standing else None,
        "delta": _delta(primary, data.standing) if data.status == "scored" else None,
        "metrics": rows if data.status == "scored" else [],
        "split": safe_text(data.split, 20),
        "ci_label": Safe(f"{data.ci_level:.0%} CI" if data.ci_level else "CI"),
        "problems": [safe_text(p, 500) for p in shown],
        "problem_count": len(data.problems),
        "problems_cut": len(data.problems) - len(shown),
        "limits": _limits(data.limits),
        "description": safe_text(data.description, desc_max) if data.description else None,
        "truncated": truncated,
        "run_url": _safe_url(data.run_url),
        "version": Safe(__version__),
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
        return Safe("you lead the board")
    gap = abs(standing.leader_value - m.value)
    leader = md_text(standing.leader or "the leader", 100)
    return Safe(f"{fmt(gap, m.precision)} behind the leader ({leader})")


def _limits(limits: LimitsLine | None) -> Safe | None:
    if limits is None:
        return None
    parts = []
    if limits.left_today is not None:
        reset = f" (resets {limits.resets_at:%Y-%m-%d %H:%M} UTC)" if limits.resets_at else ""
        plural = "s" if limits.left_today != 1 else ""
        parts.append(f"{limits.left_today} evaluation{plural} left today{reset}")
    if limits.left_total is not None:
        parts.append(f"{limits.left_total} left in this phase")
    return Safe(" · ".join(parts) or "no limits in this phase")
