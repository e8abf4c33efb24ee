"""The score-over-time chart, drawn as inline SVG (no JavaScript, no external library).

Each scored evaluation is a dot; a step line shows the best score reached by the end of
each UTC day (best means the metric's direction). Colours come from CSS classes so the
chart follows the light/dark palette.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup

from runner.site import fmt

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
CHAR = 6.6  # px per character of an 11 px tick label (tabular digits), to fit labels


@dataclass(frozen=True)
class Point:
    """One dot: when, the score, and who/which for its hover and focus label."""

    when: datetime
    value: float
    who: str = ""
    which: str = ""
    href: str | None = None  # the submission page, relative to the chart's page


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering ``[low, high]``."""
    span = high - low
    raw = span / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    # the step among 1, 2, 5 (x power of ten) that gives the number of intervals nearest count-1
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda s: abs(span / s - (count - 1)))
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def best_per_day(
    points: Sequence[tuple[datetime, float]], higher_is_better: bool
) -> list[tuple[datetime, float]]:
    """(start of day, best so far by the end of it) for every UTC day with an evaluation."""
    better = max if higher_is_better else min
    days: dict[datetime, float] = {}
    best: float | None = None
    for when, value in sorted(points):
        best = value if best is None else better(best, value)
        days[datetime(when.year, when.month, when.day, tzinfo=when.tzinfo)] = best
    return sorted(days.items())


def _domain(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low < 1e-12:
        pad = abs(low) * 0.1 or 0.5
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return low - pad, high + pad


class _Scale:
    def __init__(self, low: float, high: float, out_low: float, out_high: float):
        self.low, self.high, self.out_low, self.out_high = low, high, out_low, out_high

    @property
    def low_x(self) -> float:
        return self.out_low

    def __call__(self, value: float) -> float:
        frac = (value - self.low) / (self.high - self.low)
        return round(self.out_low + frac * (self.out_high - self.out_low), 1)


def score_chart(
    points: Sequence[Point | tuple[datetime, float]],
    *,
    metric: str,
    higher_is_better: bool,
    precision: int,
    baselines: Sequence[float] = (),
    noun: str = "scored evaluations",
) -> Markup:
    """The SVG for one phase's scored evaluations, or a note when there are none.

    ``baselines`` (maintainers' reference scores) are dashed lines, not part of the best.
    ``noun`` names what the dots are (the label reads "<metric> of N <noun> over time").
    """
    if not points:
        return Markup('<p class="cr-empty">No scored submissions yet.</p>')
    dots = [p if isinstance(p, Point) else Point(p[0], p[1]) for p in points]
    stamps = [p.when.timestamp() for p in dots]
    x0, x1 = min(stamps), max(stamps)
    if x1 - x0 < 3600:
        x0, x1 = x0 - 43200, x1 + 43200
    pad = (x1 - x0) * 0.02  # keep the first and last dots inside the frame
    x0, x1 = x0 - pad, x1 + pad
    steps = best_per_day([(p.when, p.value) for p in dots], higher_is_better)
    ylow, yhigh = _domain([p.value for p in dots] + list(baselines))
    left = _left_margin(ylow, yhigh, precision)
    xs = _Scale(x0, x1, left, WIDTH - RIGHT)
    ys = _Scale(ylow, yhigh, HEIGHT - BOTTOM, TOP)
    parts = [_frame(metric, higher_is_better, len(dots), noun, left)]
    parts += _y_axis(ys, ylow, yhigh, precision, left) + _x_axis(xs, x0, x1)
    parts += [
        f'<line class="cr-baseline-line" x1="{left}" x2="{WIDTH - RIGHT}"'
        f' y1="{ys(b)}" y2="{ys(b)}">'
        f"<title>baseline {b:.{precision}f}</title></line>"
        for b in baselines
    ]
    parts.append(_steps(steps, xs, ys))
    parts.append(_dots(dots, xs, ys, precision))  # last: drawn above the line, and hovered
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- numbers and escape()d text only


def _tick_text(tick: float, precision: int) -> str:
    return f"{tick:.{min(precision, 6)}f}"


def _left_margin(low: float, high: float, precision: int) -> float:
    """Room for the widest y tick label and the rotated axis name beside it."""
    widest = max(len(_tick_text(t, precision)) for t in nice_ticks(low, high))
    return max(LEFT, round(widest * CHAR + 30))


def _frame(metric: str, higher_is_better: bool, n: int, noun: str, left: float) -> str:
    direction = "higher is better" if higher_is_better else "lower is better"
    label = fmt.text(f"{metric} of {n} {noun} over time ({direction})")
    return (
        # data-search-exclude: the search plugin skips the plot (its labels repeat the board).
        f'<svg class="cr-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}"'
        f' xmlns="http://www.w3.org/2000/svg" data-search-exclude><title>{label}</title>'
        f'<rect class="cr-plot" x="{left}" y="{TOP}" width="{WIDTH - left - RIGHT}"'
        f' height="{HEIGHT - TOP - BOTTOM}"/>'
        f'<text class="cr-axis-label" x="12" y="{TOP + 4}" transform="rotate(-90 12 {TOP + 4})"'
        f' text-anchor="end">{fmt.text(metric)}</text>'
    )


def _y_axis(ys: _Scale, low: float, high: float, precision: int, left: float) -> list[str]:
    out = []
    for tick in nice_ticks(low, high):
        y = ys(tick)
        out.append(
            f'<line class="cr-grid" x1="{left}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>'
            f'<text class="cr-tick" x="{left - 6}" y="{y + 4}" text-anchor="end">'
            f"{_tick_text(tick, precision)}</text>"
        )
    return out


def time_ticks(x0: float, x1: float) -> list[tuple[float, str]]:
    """(timestamp, label) at whole UTC days (or hours for short spans), at most 6."""
    span = x1 - x0
    hours = [(3600 * h, "%m-%d %H:%M") for h in (1, 3, 6, 12)] if span < 2 * 86400 else []
    days = [(86400 * d, "%Y-%m-%d") for d in (1, 2, 7, 14, 30, 61, 91, 182, 365, 730)]
    choices = hours + days
    step, fmt = next((c for c in choices if span / c[0] <= 6), choices[-1])
    first = math.ceil(x0 / step) * step
    stamps = [first + i * step for i in range(int((x1 - first) // step) + 1)]
    return [(t, datetime.fromtimestamp(t, tz=UTC).strftime(fmt)) for t in stamps]


def _x_axis(xs: _Scale, x0: float, x1: float) -> list[str]:
    return [
        f'<line class="cr-grid" x1="{xs(t)}" x2="{xs(t)}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
        f'<text class="cr-tick" x="{xs(t)}" y="{HEIGHT - BOTTOM + 18}"'
        f' text-anchor="{_anchor(xs(t), len(label) * CHAR, xs.out_low)}">{label}</text>'
        for t, label in time_ticks(x0, x1)
    ]


def _anchor(x: float, width: float, left: float) -> str:
    """Centred, unless the text would leave the drawing at either side (it would be clipped)."""
    if x + width / 2 > WIDTH:
        return "end"
    return "start" if x - width / 2 < left - 24 else "middle"


def _dots(points: Sequence[Point], xs: _Scale, ys: _Scale, precision: int) -> str:
    """A focusable dot per evaluation, its label (who, which, score, date) shown on hover and
    keyboard focus by CSS, and to screen readers as the link's name."""
    return '<g class="cr-dots">' + "".join(_dot(p, xs, ys, precision) for p in points) + "</g>"


def _dot(point: Point, xs: _Scale, ys: _Scale, precision: int) -> str:
    x, y = xs(point.when.timestamp()), ys(point.value)
    who = " · ".join(t for t in (point.who, point.which) if t)
    text = (
        f"{who + ': ' if who else ''}{point.value:.{precision}f}, {point.when:%Y-%m-%d %H:%M} UTC"
    )
    label = fmt.text(text)
    tip_y = y - 10 if y - 10 > TOP + 12 else y + 20
    anchor = _anchor(x, len(text) * CHAR, xs.out_low)
    tip = (
        f'<text class="cr-tip" x="{x}" y="{tip_y}" text-anchor="{anchor}"'
        f' aria-hidden="true">{label}</text>'
    )
    circle = f'<circle class="cr-dot" cx="{x}" cy="{y}" r="4.5"/><title>{label}</title>'
    if point.href:
        href = fmt.text(point.href)
        return f'<a class="cr-point" href="{href}" aria-label="{label}">{circle}{tip}</a>'
    return f'<g class="cr-point" tabindex="0" role="img" aria-label="{label}">{circle}{tip}</g>'


def _steps(steps: Sequence[tuple[datetime, float]], xs: _Scale, ys: _Scale) -> str:
    # The best of a day holds from that day's start (or the first dot) to the next change.
    d = [f"M{xs.low_x} {ys(steps[0][1])}"]
    for day, value in steps[1:]:
        d.append(f"H{xs(max(day.timestamp(), xs.low))}V{ys(value)}")
    d.append(f"H{xs.out_high}")
    return f'<path class="cr-best" d="{"".join(d)}"/>'
