"""Files written straight into the built site, without MkDocs: one page per submission
(thousands; MkDocs would spend ~16 ms on each, Jinja2 spends well under 1 ms), the
leaderboard downloads and the shields.io endpoint badges.

Submission pages reuse the theme: the hook renders one hidden MkDocs page at the same
depth (``urls.SHELL_URL``) and every submission page is that page with its title and body
replaced, so header, palette toggle, navigation and styles are the real ones.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from runner.models import Result, Submission
from runner.reveal import reveal_time
from runner.site import fmt
from runner.site.pages import exported_boards, shown_board
from runner.site.render import template
from runner.site.sources import ChallengeData, SiteData, board_to_csv, board_to_json
from runner.site.status import board_phase
from runner.site.urls import (
    SHELL_URL,
    badge_url,
    board_download,
    challenge_url,
    people_url,
    relative,
    submission_url,
)

if TYPE_CHECKING:
    from runner.leaderboard import Board, Entry
    from runner.models import Result
    from runner.site.sources import MetricView, SiteData

TITLE_MARK = "CRSHELLTITLE"
URL_MARK = SHELL_URL
BODY_MARK = '<div class="cr-slot" data-slot="shell-body"></div>'


def shell_markdown() -> str:
    """The hidden page whose rendering becomes the frame of every submission page."""
    return (
        f"---\ntitle: {TITLE_MARK}\nsearch:\n  exclude: true\n---\n\n"
        f'<h1 class="cr-hidden">{TITLE_MARK}</h1>\n\n{BODY_MARK}\n'
    )


@dataclass(frozen=True)
class Shell:
    """A rendered page split around its title and body markers."""

    parts: tuple[str, ...]  # text between markers
    marks: tuple[str, ...]  # which marker follows each part: "title", "body" or "url"

    @classmethod
    def from_html(cls, html: str) -> Shell:
        html = html.replace(f'<h1 class="cr-hidden">{TITLE_MARK}</h1>', "")
        pattern = "|".join(re.escape(m) for m in (TITLE_MARK, BODY_MARK, URL_MARK))
        pieces = re.split(f"({pattern})", html)
        names = {TITLE_MARK: "title", BODY_MARK: "body", URL_MARK: "url"}
        return cls(tuple(pieces[0::2]), tuple(names[m] for m in pieces[1::2]))

    def fill(self, title: str, body: str, url: str) -> str:
        values = {"title": str(fmt.text(title)), "body": body, "url": url}
        out = [self.parts[0]]
        for mark, part in zip(self.marks, self.parts[1:], strict=True):
            out.append(values[mark])
            out.append(part)
        return "".join(out)


def write(site_dir: Path, rel: str, text: str) -> None:
    path = site_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ------------------------------------------------------------ submission pages


def group_by_submission(results: tuple[Result, ...]) -> dict[tuple[str, str], list[Result]]:
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        groups[(r.participant, r.submission)].append(r)
    for items in groups.values():
        items.sort(key=lambda r: (r.created_at, r.evaluation_id), reverse=True)
    return groups


def _ranks(data: ChallengeData) -> dict[tuple[str, str], list[dict[str, object]]]:
    ranks: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for boards in data.phases:
        board = boards.private or boards.public
        ranked = sum(1 for e in board.entries if e.rank is not None)
        for e in board.entries:
            if e.rank is not None:
                ranks[(e.participant, e.submission)].append(
                    {
                        "rank": e.rank,
                        "of": ranked,
                        "split": board.split,
                        "phase": board.phase,
                        "released": _released_text(data, board, e),
                    }
                )
    return ranks


def _released_text(data: ChallengeData, board: Board, entry: Entry) -> str:
    """On a Ladder board, the score the board shows (the only public score published)."""
    if not board.ladder:
        return ""
    metric = data.metrics[0]
    score = entry.scores.get(metric.name)
    value = fmt.score_text(score.value if score else None, metric.precision)
    return f"{metric.name} {value}"


def submission_pages(
    site: SiteData, data: ChallengeData, shell: Shell
) -> Iterator[tuple[str, str]]:
    """(site path, HTML) of every submission of a challenge that has a result record."""
    tpl = template("submission.html.j2")
    ranks = _ranks(data)
    cid = data.challenge.id
    for (participant, name), results in group_by_submission(data.results).items():
        url = submission_url(cid, participant, name)
        manifest = site.manifests.get((cid, participant, name))
        context = submission_context(site, data, results, manifest, url)
        context["ranks"] = ranks.get((participant, name), [])
        title = f"{name} · {data.challenge.title}"
        yield url, shell.fill(title, tpl.render(context), url)


def submission_context(
    site: SiteData,
    data: ChallengeData,
    results: list[Result],
    manifest: Submission | None,
    url: str,
) -> dict:
    """The template context of one submission page (``results`` newest first)."""
    latest = results[0]
    primary = data.metrics[0]
    scored = next((r for r in results if r.status == "scored"), None)
    phase = data.challenge.phase_at(scored.created_at) if scored else None
    # Private scores are in clear in a record only once `reveal` wrote it; the time check
    # is a second lock so a mistaken record cannot leak them early.
    reveal_at = reveal_time(data.challenge, scored) if scored else None
    show_private = (
        scored is not None
        and reveal_at is not None
        and "private" in scored.scores
        and site.now >= reveal_at
    )
    # Under the Ladder the board shows only released improvements; one evaluation's public
    # score would give away what the Ladder withholds (the probing it exists to stop).
    ladder = data.challenge.leaderboard.ladder
    return {
        "home_href": relative(url, "index.html"),
        "challenge_href": relative(url, challenge_url(data.challenge.id)),
        "challenge_title": data.challenge.title,
        "name": latest.submission,
        "participant": latest.participant,
        "team": latest.team,
        "participant_href": relative(url, people_url("participant", latest.participant)),
        "team_href": relative(url, people_url("team", latest.team)) if latest.team else "",
        "baseline": latest.baseline,
        "manifest": manifest is not None,
        "description": _paragraphs(manifest.description) if manifest else [],
        "links": list(manifest.links) if manifest else [],
        "scores": _score_rows(data, scored, show_private, ladder) if scored else [],
        "ladder": ladder,
        "scores_date": fmt.date_text(scored.created_at) if scored else "",
        "scores_phase": phase.id if phase else "outside every phase",
        "show_private": show_private,
        "private_hidden": fmt.date_text(reveal_at)
        if scored and scored.private and not show_private
        else "",
        "ci_level": f"{data.challenge.leaderboard.ci:.0%}",
        "primary": f"{primary.name} (public)",
        "history": [_history_row(data, r, primary, ladder) for r in results],
        "provenance": _provenance_rows(latest, site.repo_url),
    }


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


WITHHELD = "withheld"


def _score_rows(
    data: ChallengeData, result: Result, show_private: bool, withhold_public: bool
) -> list[dict]:
    rows = []
    public = result.scores.get("public", {})
    private = result.scores.get("private", {}) if show_private else {}
    for m in data.metrics:
        pub, priv = public.get(m.name), private.get(m.name)
        rows.append(
            {
                "metric": m.name,
                "higher_is_better": m.higher_is_better,
                "public": WITHHELD
                if withhold_public
                else fmt.score_text(pub.value if pub else None, m.precision),
                "public_ci": "" if withhold_public else fmt.ci_text(pub, m.precision),
                "private": fmt.score_text(priv.value if priv else None, m.precision),
                "private_ci": fmt.ci_text(priv, m.precision),
            }
        )
    return rows


def _history_row(
    data: ChallengeData, result: Result, primary: MetricView, withhold_public: bool
) -> dict[str, str]:
    score = result.scores.get("public", {}).get(primary.name)
    phase = data.challenge.phase_at(result.created_at)
    shown = fmt.score_text(score.value if score else None, primary.precision)
    return {
        "date": fmt.date_text(result.created_at),
        "phase": phase.id if phase else "outside every phase",
        "status": result.status,
        "primary": WITHHELD if withhold_public and score is not None else shown,
        "message": result.message,
        "id": result.evaluation_id,
    }


def _code(value: str | None) -> Markup | str:
    return Markup("<code>{}</code>").format(value) if value else "—"


def _provenance_rows(result: Result, repo_url: str | None) -> list[tuple[str, object]]:
    p = result.provenance
    rows: list[tuple[str, object]] = [
        ("Image digest", _code(p.image_digest)),
        ("Predictions sha256", _code(p.predictions_sha256)),
        ("Data sha256", _code(p.data_sha256)),
        ("Challenge sha256", _code(p.challenge_sha256)),
        ("Manifest sha256", _code(p.manifest_sha256)),
        ("Runner version", p.runner_version),
    ]
    base = repo_url.rstrip("/") if repo_url and repo_url.startswith("https://") else None
    commit = p.commit or "—"
    rows.append(
        ("Commit", fmt.link(f"{base}/commit/{commit}", commit) if base and p.commit else commit)
    )
    pr = f"#{p.pull_request}" if p.pull_request is not None else "—"
    rows.append(
        (
            "Pull request",
            fmt.link(f"{base}/pull/{p.pull_request}", pr) if base and p.pull_request else pr,
        )
    )
    rows.append(("Run", fmt.link(p.run_url) if p.run_url else "—"))
    return rows


# ------------------------------------------------------------ downloads and badges


def downloads(data: ChallengeData) -> Iterator[tuple[str, str]]:
    """The JSON and CSV of every board that has entries (a phase not started, or with no
    scored submission, has nothing to download: no header-only files)."""
    cid = data.challenge.id
    for board in exported_boards(data):
        yield board_download(cid, board.phase, board.split, "json"), board_to_json(board)
        yield board_download(cid, board.phase, board.split, "csv"), board_to_csv(board)


def _badge(label: str, message: str, color: str) -> str:
    return json.dumps({"schemaVersion": 1, "label": label, "message": message, "color": color})


def badges(data: ChallengeData, now: datetime) -> Iterator[tuple[str, str]]:
    """The leader badge of the challenge and a rank badge per entrant on its current board."""
    cid = data.challenge.id
    board = shown_board(data, board_phase(data.challenge, now))
    ranked = [e for e in board.entries if e.rank is not None]
    metric = data.metrics[0]
    if ranked:
        top = ranked[0]
        value = fmt.score_text(top.scores[metric.name].value, metric.precision)
        yield badge_url(cid), _badge(cid, f"leader {top.entrant} ({metric.name} {value})", "blue")
    else:
        yield badge_url(cid), _badge(cid, "no entries yet", "lightgrey")
    colors = {1: "gold", 2: "silver", 3: "orange"}
    for e in ranked:
        color = colors.get(e.rank or 0, "brightgreen")
        yield badge_url(cid, e.entrant), _badge(f"{cid} rank", f"{e.rank} of {len(ranked)}", color)
