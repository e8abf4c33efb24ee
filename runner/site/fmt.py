"""Formatting helpers shared by the page templates: scores, intervals, dates, durations, links.

Everything here returns plain ``str`` (escaped later by Jinja2's autoescape) or ``Markup``
built only from escaped parts, so a participant string can never become markup.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from runner.github.escape import visible
from runner.models import OPEN_END, Score

_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def text(value: object) -> Markup:
    """HTML for a string shown as text: invisible characters dropped (the same ones the PR
    comment drops, ``runner.github.escape.visible``), then escaped."""
    return escape(visible(str(value)))


def shown(value: object) -> object:
    """Jinja2's ``finalize``: every printed string loses its invisible characters (a Markup
    value too: they are never part of markup, so dropping them cannot form any)."""
    if isinstance(value, Markup):
        return Markup(visible(str(value)))  # noqa: S704 -- already escaped; only removes characters
    return visible(value) if isinstance(value, str) else value


def score_text(value: float | None, precision: int) -> str:
    """A metric value with the metric's display precision; an em dash when there is none."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{precision}f}"


def ci_text(score: Score | None, precision: int) -> str:
    """The confidence interval as ``[low, high]``, or "" when the record has none."""
    if score is None or score.ci_low is None or score.ci_high is None:
        return ""
    return f"[{score_text(score.ci_low, precision)}, {score_text(score.ci_high, precision)}]"


def sort_key(value: float | None) -> str:
    """The value the table sorter compares (empty sorts last)."""
    return "" if value is None or not math.isfinite(value) else repr(float(value))


def date_text(when: datetime | None) -> str:
    """``2027-01-05 14:03 UTC`` (the site states every time in UTC)."""
    if when is None:
        return "—"
    if when >= OPEN_END:
        return "never (open-ended)"
    return when.strftime("%Y-%m-%d %H:%M UTC")


def day_text(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


def duration_text(delta: timedelta) -> str:
    """A rounded human duration: ``3 days 4 hours``, ``5 hours 12 minutes``, ``40 minutes``."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (mins, "minute")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(words) or "less than a minute"


def link(url: str | None, text: str | None = None) -> Markup:
    """An ``<a>`` for ``https:`` URLs only; anything else (javascript:, data:, http:) is text."""
    if not url:
        return Markup("")
    label = text if text is not None else url
    if re.fullmatch(r"https://[^\s<>\"'`]+", url):
        return Markup('<a href="{}" rel="nofollow noopener">{}</a>').format(url, visible(label))
    return escape(visible(label if text is None else f"{label}: {url}"))


def segment(name: str) -> str:
    """A file-name-safe path segment for a participant, team or submission name.

    Names the schemas allow pass unchanged (so URLs are readable); anything else gets a
    stable hash so a hostile name can never climb out of its folder or collide.
    """
    if _SAFE_SEGMENT.fullmatch(name) and name not in {".", ".."}:
        return name
    return "x-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def duration_text_seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} seconds"
    return duration_text(timedelta(seconds=seconds))


def size_text(size: int) -> str:
    """Bytes in binary units: ``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
