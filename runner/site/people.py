"""A page per participant and per team: every evaluation, its status, score and phase, and
which ones count on a board (``runner.history``, shared with ``challenge-runner submissions``).

These are MkDocs pages (not files written after the build like submission pages), so the
search plugin indexes them: searching a login, a submission's name or a row's message finds
its page. Their Markdown holds only the escaped name and counts; the tables are Jinja2
fragments put into slots, like the boards, before the search plugin reads the page
(``SiteHooks.on_page_content``).
"""

from __future__ import annotations

import re
from collections import defaultdict

from runner.history import HistoryRow, history
from runner.site import fmt
from runner.site.pages import GeneratedPage, _yaml_str, slot
from runner.site.render import render
from runner.site.sources import SiteData
from runner.site.urls import (
    challenge_url,
    people_url,
    relative,
    submission_url,
)

INDEX_SRC = "participants.md"  # not in participants/: a login may be "index"


def all_rows(site: SiteData) -> list[HistoryRow]:
    rows: list[HistoryRow] = []
    for data in site.challenges.values():
        rows += history(data.challenge, data.results, data.shown_boards())
    return rows


def md_text(text: str) -> str:
    """A name as literal Markdown text (logins and team names are plain, but be sure)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~])", r"\\\1", text)


def people_pages(site: SiteData) -> list[GeneratedPage]:
    """The participant pages, the team pages and the index of both."""
    rows = all_rows(site)
    by_login: dict[str, list[HistoryRow]] = defaultdict(list)
    by_team: dict[str, list[HistoryRow]] = defaultdict(list)
    for row in rows:
        by_login[row.participant].append(row)
        if row.team:
            by_team[row.team].append(row)
    titles = {cid: d.challenge.title for cid, d in site.challenges.items()}
    pages = [_page("participant", who, items, titles) for who, items in sorted(by_login.items())]
    pages += [_page("team", team, items, titles) for team, items in sorted(by_team.items())]
    pages.append(_index(sorted(by_login), sorted(by_team), rows))
    return pages


def _page(kind: str, name: str, rows: list[HistoryRow], titles: dict) -> GeneratedPage:
    url = people_url(kind, name)
    challenges = defaultdict(list)
    for row in rows:
        challenges[row.challenge].append(row)
    sections = [
        {
            "title": titles.get(cid, cid),
            "href": relative(url, challenge_url(cid)),
            "rows": [_row(r, url, kind) for r in items],
        }
        for cid, items in sorted(challenges.items())
    ]
    members = sorted({r.participant for r in rows}) if kind == "team" else []
    teams = sorted({r.team for r in rows if r.team}) if kind == "participant" else []
    fragment = render(
        "person.html.j2",
        sections=sections,
        members=[(m, relative(url, people_url("participant", m))) for m in members],
        teams=[(t, relative(url, people_url("team", t))) for t in teams],
        home=relative(url, "index.html"),
        index=relative(url, people_url("index", "")),
    )
    counting = sum(1 for r in rows if r.counts and r.counts != "baseline")
    md = [
        f"---\ntitle: {_yaml_str(f'{kind.capitalize()} {name}')}\nhide: [toc]\n---\n",
        f"# {md_text(name)}\n",
        f"{kind.capitalize()} **{md_text(name)}**: {len(rows)} evaluation(s) in "
        f"{len(sections)} challenge(s), {counting} on a leaderboard.\n",
        slot("history"),
        "",
    ]
    return GeneratedPage(url.removesuffix(".html") + ".md", "\n".join(md), {"history": fragment})


def _row(row: HistoryRow, url: str, kind: str) -> dict[str, object]:
    target = submission_url(row.challenge, row.participant, row.submission)
    return {
        "date": fmt.date_text(row.created_at),
        "date_sort": row.created_at.isoformat(),
        "submission": row.submission,
        "href": relative(url, target),
        "by": row.participant if kind == "team" else (row.team or ""),
        "phase": row.phase or "outside every phase",
        "status": row.status,
        "metric": row.metric,
        "score": row.score_text,
        "counts": row.counts,
        "message": row.message,
    }


def _index(logins: list[str], teams: list[str], rows: list[HistoryRow]) -> GeneratedPage:
    url = people_url("index", "")
    count: defaultdict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        count[("participant", row.participant)] += 1
        if row.team:
            count[("team", row.team)] += 1

    def entries(kind: str, names: list[str]) -> list[tuple[str, str, int]]:
        return [(n, relative(url, people_url(kind, n)), count[(kind, n)]) for n in names]

    fragment = render(
        "people.html.j2", participants=entries("participant", logins), teams=entries("team", teams)
    )
    md = "---\ntitle: Participants and teams\n---\n\n# Participants and teams\n\n"
    return GeneratedPage(INDEX_SRC, md + slot("people") + "\n", {"people": fragment})
