"""``challenge-runner leaderboard``: print a challenge's leaderboard for one phase."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import results_option, root_option
from runner.errors import ConfigError
from runner.models import Challenge, Phase

if TYPE_CHECKING:
    from runner.leaderboard import Board

FORMATS = ("table", "json", "csv")


def default_phase(challenge: Challenge, now: datetime) -> Phase:
    """The listed phase open now, else the last listed one that has started, else the first
    (the site's choice; an unlisted phase is shown only when asked for with --phase)."""
    from runner.site.status import board_phase

    return board_phase(challenge, now)


def pick_phase(challenge: Challenge, phase_id: str | None, now: datetime) -> Phase:
    if not challenge.phases:
        raise ConfigError(f"challenge {challenge.id} has no phases, so it has no leaderboard")
    if phase_id is None:
        return default_phase(challenge, now)
    phase = challenge.phase(phase_id)
    if phase is None:
        known = ", ".join(p.id for p in challenge.phases)
        raise ConfigError(
            f"challenge {challenge.id} has no phase {phase_id!r}; its phases: {known}"
        )
    return phase


def shown_split(phase: Phase, now: datetime, asked: str | None) -> str:
    """The split to rank on: as asked, else what the site shows -- a private phase's
    private split once revealed, before that the provisional public ranking."""
    if asked is not None:
        return asked
    return "private" if phase.leaderboard == "private" and now >= phase.reveal_at else "public"


@click.command()
@click.argument("challenge_id", metavar="CHALLENGE")
@click.option(
    "--phase", "phase_id", help="Phase id (default: the phase open now, else the latest)."
)
@click.option(
    "--split",
    type=click.Choice(["public", "private"]),
    default=None,
    help="Split to rank on (default: as the site shows it: a private phase's public split, "
    "marked provisional, until its reveal; the private split after).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@results_option
@root_option
def leaderboard(
    challenge_id: str,
    phase_id: str | None,
    split: str | None,
    fmt: str,
    results_dir: Path | None,
    root: Path,
) -> None:
    """Print CHALLENGE's leaderboard for a phase as a table, JSON or CSV.

    Submissions marked ``selected: true`` count in a phase with ``selection:``, as on the
    site. Unreadable result records are reported on stderr and skipped.
    """
    from runner.leaderboard import (
        board_to_csv,
        board_to_json,
        board_to_table,
        build_board,
        marked_selected,
    )
    from runner.loader import load_challenge, load_repo
    from runner.records import load_results

    challenge = load_challenge(root / "challenges" / challenge_id)
    now = datetime.now(UTC)
    phase = pick_phase(challenge, phase_id, now)
    loaded = load_results(results_dir or root / "results", challenge.id)
    for problem in loaded.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    selected = marked_selected(load_repo(root).submissions, challenge.id)
    split = shown_split(phase, now, split)
    board = build_board(challenge, loaded.results, phase, split=split, now=now, selected=selected)
    render = {"table": board_to_table, "json": board_to_json, "csv": board_to_csv}[fmt]
    click.echo(render(board), nl=False)
    if fmt == "table":
        _notes(board, phase, now)


def _notes(board: Board, phase: Phase, now: datetime) -> None:
    if phase.leaderboard == "private" and board.split == "public" and now < phase.reveal_at:
        click.echo(
            f"(provisional: the public split; phase {phase.id} ranks on the private split, "
            f"revealed at {phase.reveal_at:%Y-%m-%d %H:%M} UTC)",
            err=True,
        )
    if not board.revealed:
        click.echo(
            f"(private scores are revealed at {phase.reveal_at:%Y-%m-%d %H:%M} UTC)", err=True
        )
    elif board.sealed:
        click.echo(
            f"({board.sealed} records still sealed: "
            f"run `challenge-runner reveal {board.challenge}`)",
            err=True,
        )
    elif not board.entries:
        click.echo("(no scored submissions in this phase yet)", err=True)
