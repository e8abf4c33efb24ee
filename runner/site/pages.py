"""The MkDocs pages the hook generates: the home page and one page per challenge.

A page's Markdown holds only headings, maintainer text (the challenge README) and slot
markers; every table built from participant data is rendered by Jinja2 (autoescaped) and
put in place of its marker after Markdown has run, so no participant string is ever read
as Markdown or raw HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from runner.models import Phase, Result
from runner.site import fmt
from runner.site.render import render
from runner.site.sources import Board, ChallengeData, MetricView, SiteData
from runner.site.status import board_phase, challenge_status
from runner.site.urls import (
    badge_url,
    board_download,
    challenge_url,
    people_url,
    relative,
    submission_url,
)

if TYPE_CHECKING:
    from runner.leaderboard import Entry
    from runner.models import Score
    from runner.site.chart import Point


def slot(key: str) -> str:
    """The marker a fragment replaces (raw HTML survives Markdown unchanged)."""
    return f'<div class="cr-slot" data-slot="{key}"></div>'


@dataclass(frozen=True)
class GeneratedPage:
    src_uri: str
    markdown: str
    slots: dict[str, str]  # marker key -> HTML fragment


# ----------------------------------------------------------------- home


def leader_of(data: ChallengeData, now: datetime) -> tuple[str, str] | None:
    """(entrant, "metric value") of rank 1 on the board the home page shows, if any."""
    board = shown_board(data, board_phase(data.challenge, now))
    top = next((e for e in board.entries if e.rank == 1), None)
    if top is None:
        return None
    metric = data.metrics[0]
    value = fmt.score_text(top.scores[metric.name].value, metric.precision)
    return top.entrant, f"{metric.name} {value}"


def shown_board(data: ChallengeData, phase: Phase) -> Board:
    """The ranking of a phase: its private board once revealed, else the public one."""
    boards = data.boards_of(phase.id)
    return boards.private or boards.public


def home_page(site: SiteData, intro: str) -> GeneratedPage:
    rows = [_home_row(data, site.now) for data in site.challenges.values()]
    fragment = render("home.html.j2", rows=rows, built=fmt.date_text(site.now))
    body = intro.strip() or "# Challenges\n\nEvery challenge hosted in this repository."
    return GeneratedPage("index.md", f"{body}\n\n{slot('home')}\n", {"home": fragment})


_STATE_ORDER = {"open": "0", "upcoming": "1", "closed": "2"}


def _baseline_only(data: ChallengeData) -> set[str]:
    """Entrants whose every submission is a baseline (as the boards decide: by each
    submission's latest record, so one marked after its first evaluation counts once)."""
    latest: dict[tuple[str, str], Result] = {}
    for r in sorted(data.results, key=lambda r: (r.created_at, r.evaluation_id)):
        latest[(r.participant, r.submission)] = r
    competing = {r.entrant for r in latest.values() if not r.baseline}
    return {r.entrant for r in latest.values() if r.baseline} - competing


def _home_row(data: ChallengeData, now: datetime) -> dict[str, object]:
    ch = data.challenge
    status = challenge_status(ch, now)
    leader = leader_of(data, now)
    return {
        "title": ch.title,
        "summary": ch.summary,
        "href": relative("index.html", challenge_url(ch.id)),
        "state": status.state,
        "state_sort": _STATE_ORDER[status.state] + ch.title,
        "status": status.text,
        "participants": len({r.entrant for r in data.results} - _baseline_only(data)),
        "submissions": len({(r.participant, r.submission) for r in data.results}),
        "leader": leader[0] if leader else None,
        "leader_score": leader[1] if leader else "",
    }


# ----------------------------------------------------------------- challenge


def challenge_page(
    data: ChallengeData, site: SiteData, public_files: list[tuple[str, int]]
) -> GeneratedPage:
    ch = data.challenge
    page = challenge_url(ch.id)
    slots = {
        "status": _status_fragment(data, site.now),
        "actions": actions_fragment(data, site, page),
        "rules": rules_fragment(data),
        "data": render("data.html.j2", files=_file_rows(public_files)),
        "downloads": _downloads_fragment(data, page, site.site_url),
    }
    md = [
        # No table of contents column: the leaderboards need the width.
        f"---\ntitle: {_yaml_str(ch.title)}\nhide: [toc]\n---\n",
        f"# {fmt.text(ch.title)}\n",
        f"{fmt.text(ch.summary)}\n",
        slot("status"),
        slot("actions"),
        "\n## Overview\n",
        readme_markdown(ch.root / "README.md"),
        "\n## Rules\n",
        slot("rules"),
        "\n## Data\n",
        slot("data"),
        "\n## Leaderboard\n",
    ]
    for boards in _phase_order(data.phases, site.now):
        key = f"phase-{boards.phase.id}"
        md += [f"\n### Phase {boards.phase.id}\n", slot(key)]
        slots[key] = phase_fragment(data, boards.phase, site.now, page)
        md += [f"\n#### Score over time ({boards.phase.id})\n", slot(f"chart-{boards.phase.id}")]
        slots[f"chart-{boards.phase.id}"] = chart_fragment(data, boards.phase, site.now)
    md += ["\n## Downloads\n", slot("downloads"), ""]
    return GeneratedPage(page_src(ch.id), "\n".join(md), slots)


def _phase_order(phases, now):
    """Phases that have started, the latest first, then those still to come in order."""
    started = [b for b in phases if b.phase.start <= now]
    return [*reversed(started), *(b for b in phases if b.phase.start > now)]


def page_src(challenge_id: str) -> str:
    return f"challenges/{challenge_id}/index.md"


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def readme_markdown(path: Path) -> str:
    """The challenge README (trusted maintainer Markdown), headings moved one level down.

    Its first ``# Title`` is dropped: the page already has the challenge title.
    """
    if not path.is_file():
        return "*This challenge has no README.md.*\n"
    lines, fenced, out = path.read_text(encoding="utf-8").splitlines(), False, []
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and re.match(r"#{1,5} ", line):
            if i == next((j for j, x in enumerate(lines) if x.strip()), -1) and line[:2] == "# ":
                continue
            line = "##" + line if line.startswith("# ") else "#" + line
        out.append(line)
    return "\n".join(out) + "\n"


def _status_fragment(data: ChallengeData, now: datetime) -> str:
    status = challenge_status(data.challenge, now)
    return (
        f'<p class="cr-status-line"><span class="cr-state cr-state-{status.state}">'
        f"{status.state}</span> {fmt.text(status.text)} · built {fmt.date_text(now)}</p>"
    )


def actions_fragment(data: ChallengeData, site: SiteData, page: str) -> Markup:
    """The "How to submit" button and the link to the challenge's folder in the repository."""
    submit = relative(page, site.submit_page) if site.submit_page else None
    repo = site.repo_url.rstrip("/") if site.repo_url else None
    folder = f"{repo}/tree/HEAD/challenges/{data.challenge.id}" if repo else None
    return render(
        "actions.html.j2",
        submit=submit,
        repo=repo if repo and repo.startswith("https://") else None,
        folder=folder if repo and repo.startswith("https://") else None,
        challenge=data.challenge.id,
    )


def rules_fragment(data: ChallengeData) -> str:
    ch = data.challenge
    phases = [_phase_row(p) for p in ch.phases if p.listed]
    kinds = list(ch.submission_kinds)
    c = ch.container
    container = None
    code_image = ch.program.image if "code" in kinds and ch.program else None
    if "container" in kinds or code_image:
        container = {
            "memory": c.memory,
            "cpus": c.cpus,
            "pids": c.pids,
            "timeout": fmt.duration_text_seconds(c.timeout_s),
            "output_limit": c.output_limit,
        }
    return render(
        "rules.html.j2",
        metrics=data.metrics,
        phases=phases,
        predictions=ch.predictions,
        kinds=kinds,
        best_of=ch.leaderboard.best_of,
        ladder=ch.leaderboard.ladder,
        container=container,
        code_image=code_image,
        ci_level=f"{ch.leaderboard.ci:.0%}",
        maintainers=ch.maintainers,
    )


def _phase_row(p: Phase) -> dict[str, object]:
    return {
        "id": p.id,
        "start": fmt.date_text(p.start),
        "end": fmt.date_text(p.end),
        "leaderboard": p.leaderboard,
        "private": p.leaderboard == "private",
        "reveal": fmt.date_text(p.reveal_at),
        "per_day": p.limits.per_day or "no limit",
        "total": p.limits.total or "no limit",
        "selection": p.selection or "best",
    }


def _file_rows(files: list[tuple[str, int]]) -> list[dict[str, str]]:
    return [{"name": n, "href": f"public/{n}", "size": fmt.size_text(s)} for n, s in files]


def phase_fragment(data: ChallengeData, phase: Phase, now: datetime, page: str) -> str:
    boards = data.boards_of(phase.id)
    status = "open" if phase.contains(now) else ("ended" if now >= phase.end else "upcoming")
    private = None
    if boards.private is not None:
        private = board_fragment(data, boards.private, page, "Final ranking (private split)")
    caption = (
        "Provisional ranking (public split)"
        if phase.leaderboard == "private"
        else ("Ranking (public split)")
    )
    if boards.private is not None:
        caption = "Public split (for reference)"
    return render(
        "phase.html.j2",
        phase=_phase_row(phase),
        state=status,
        started=now >= phase.start,
        private_board=private,
        public_board=board_fragment(data, boards.public, page, caption),
    )


def board_fragment(data: ChallengeData, board: Board, page: str, caption: str) -> Markup:
    if not board.entries:
        return Markup('<p class="cr-empty">No scored submissions yet.</p>')
    rows = [_board_row(data, e, page) for e in board.entries]
    return render(
        "board.html.j2",
        board_id=f"{board.phase}-{board.split}",
        caption=caption,
        metrics=data.metrics,
        rows=rows,
    )


def _board_row(data: ChallengeData, entry: Entry, page: str) -> dict[str, object]:
    cells = []
    for m in data.metrics:
        score = entry.scores.get(m.name)
        value = score.value if score else None
        cells.append(
            {
                "text": fmt.score_text(value, m.precision),
                "ci": fmt.ci_text(score, m.precision),
                "sort": fmt.sort_key(value),
            }
        )
    target = submission_url(data.challenge.id, entry.participant, entry.submission)
    return {
        "participant_href": relative(page, people_url("participant", entry.participant)),
        "team_href": relative(page, people_url("team", entry.team)) if entry.team else "",
        "rank": entry.rank if entry.rank is not None else "—",
        "rank_sort": entry.rank if entry.rank is not None else "",
        "entrant": entry.entrant,
        "participant": entry.participant,
        "team": entry.team,
        "baseline": entry.baseline,
        "submission": entry.submission,
        "href": relative(page, target),
        "cells": cells,
        "evaluations": entry.evaluations,
        "date": fmt.day_text(entry.created_at),
        "time": fmt.date_text(entry.created_at),
        "date_sort": entry.created_at.isoformat(),
    }


def chart_fragment(data: ChallengeData, phase: Phase, now: datetime) -> Markup:
    from runner.site.chart import score_chart

    metric: MetricView = data.metrics[0]
    boards = data.boards_of(phase.id)
    split = "private" if boards.private is not None else "public"
    points, baselines = [], []
    for r in data.results:
        score = r.scores.get(split, {}).get(metric.name)
        # The phase window decides, as on the board; baselines are reference lines.
        if score is None or r.status != "scored" or not phase.contains(r.created_at):
            continue
        if r.baseline:
            baselines.append(score.value)
        else:
            points.append(_point(data, r.entrant, r.participant, r.submission, r.created_at, score))
    ladder = split == "public" and boards.public.ladder
    if ladder:  # each evaluation's score is what the Ladder withholds: plot the board's
        points = _released_points(data, boards.public, metric)
    chart = score_chart(
        points,
        metric=f"{metric.name} ({split} split)",
        higher_is_better=metric.higher_is_better,
        precision=metric.precision,
        baselines=baselines,
        noun="released scores" if ladder else "scored evaluations",
    )
    legend = "Dots: every scored evaluation. Line: the best score by the end of each UTC day."
    if ladder:
        legend = (
            "Dots: the score the board shows for each entrant, at the time of the evaluation "
            "that earned it (the Ladder releases only improvements, so single evaluations are "
            "not plotted). Line: the best of these by the end of each UTC day."
        )
    if baselines:
        legend += " Dashed: the maintainers' baselines."
    return chart + Markup('<p class="cr-muted">{}</p>').format(legend) if points else chart


def _point(
    data: ChallengeData, who: str, participant: str, name: str, when: datetime, score: Score
) -> Point:
    from runner.site.chart import Point

    page = challenge_url(data.challenge.id)
    href = relative(page, submission_url(data.challenge.id, participant, name))
    return Point(when, score.value, who, name, href)


def _released_points(data: ChallengeData, board: Board, metric: MetricView) -> list:
    points = []
    for e in board.entries:
        score = e.scores.get(metric.name)
        if score is not None and not e.baseline:
            points.append(_point(data, e.entrant, e.participant, e.submission, e.created_at, score))
    return points


def exported_boards(data: ChallengeData) -> list[Board]:
    """The boards with entries, which the site offers as JSON and CSV."""
    return [b for b in data.shown_boards() if b.entries]


def badge_snippets(cid: str, site_url: str | None) -> tuple[str, str]:
    """Markdown for the leader badge and for one entrant's (``NAME``) rank badge."""
    base = (site_url or "https://YOUR-SITE/").rstrip("/") + "/"

    def snippet(target: str, label: str) -> str:
        return f"[![{label}](https://img.shields.io/endpoint?url={base}{target})]({base}{challenge_url(cid)})"

    return snippet(badge_url(cid), cid), snippet(badge_url(cid, "NAME"), f"{cid} rank")


def _downloads_fragment(data: ChallengeData, page: str, site_url: str | None = None) -> str:
    cid = data.challenge.id
    rows = [
        {
            "phase": board.phase,
            "split": board.split,
            "json": relative(page, board_download(cid, board.phase, board.split, "json")),
            "csv": relative(page, board_download(cid, board.phase, board.split, "csv")),
        }
        for board in exported_boards(data)
    ]
    return render(
        "downloads.html.j2",
        boards=rows,
        badge_leader=relative(page, badge_url(cid)),
        badge_pattern=badge_url(cid, "NAME").replace("NAME", "<name>"),
        snippets=badge_snippets(cid, site_url),
        site_url_known=bool(site_url),
    )
