"""``challenge-runner submissions``: a participant's or team's history in the terminal.

The same rows as the site's participant and team pages (``runner.history``): every
evaluation with its status, public score at the challenge's precision, phase, date, and
whether it counts on a board (and where).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from runner.cli.common import results_option, root_option

COLUMNS = ("challenge", "participant", "submission", "created_at", "phase", "status", "score",
           "counts")  # fmt: skip


def _rows(root: Path, results_dir: Path, challenge_id: str | None, now: datetime) -> list[Any]:
    from runner.history import history
    from runner.leaderboard import marked_selected
    from runner.loader import load_repo
    from runner.records import load_results
    from runner.site.sources import challenge_data

    repo = load_repo(root)
    if challenge_id is not None and challenge_id not in repo.challenges:
        from runner.errors import ConfigError

        known = ", ".join(sorted(repo.challenges)) or "none"
        raise ConfigError(f"no challenge {challenge_id!r} under {root}/challenges (known: {known})")
    loaded = load_results(results_dir, challenge_id)
    for problem in loaded.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    rows = []
    for cid, challenge in sorted(repo.challenges.items()):
        if challenge_id not in (None, cid):
            continue
        mine = tuple(r for r in loaded.results if r.challenge == cid)
        data = challenge_data(challenge, mine, now, marked_selected(repo.submissions, cid))
        rows += history(challenge, data.results, data.shown_boards())
    return rows


def _table(rows: list[Any]) -> str:
    lines = [list(COLUMNS)]
    for r in rows:
        who = f"{r.participant} ({r.team})" if r.team else r.participant
        when = f"{r.created_at.astimezone(UTC):%Y-%m-%d %H:%M}"
        score = f"{r.metric} {r.score_text}" if r.status == "scored" else "-"
        lines.append(
            [
                r.challenge,
                who,
                r.submission,
                when,
                r.phase or "-",
                r.status,
                score,
                r.counts or "no",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    return "\n".join(out) + "\n"


@click.command()
@click.option("--participant", help="Only this GitHub login's evaluations (any case).")
@click.option("--team", help="Only this team's evaluations.")
@click.option("--challenge", "challenge_id", help="Only this challenge.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@results_option
@root_option
def submissions(
    participant: str | None,
    team: str | None,
    challenge_id: str | None,
    fmt: str,
    results_dir: Path | None,
    root: Path,
) -> None:
    """List evaluations: status, public score, phase, date, and whether each counts.

    "counts" names the board that ranks it (e.g. ``rank 2 of 5 (open, public split)``): the
    entrant's best, or in a phase with ``selection:`` one of the submissions that count.
    The same rows as the site's participant and team pages, newest first.
    """
    from runner.history import of_entrant

    now = datetime.now(UTC)
    rows = _rows(root, results_dir or root / "results", challenge_id, now)
    rows = of_entrant(rows, participant, team)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    click.echo(_table(rows), nl=False)
    if not rows:
        click.echo("(no evaluations match)", err=True)
