"""``challenge-runner leaderboard``: print a challenge's leaderboard for one phase."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from runner.cli.common import results_option, root_option
from runner.errors import ConfigError
from runner.models import Challenge, Phase

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


@click.command()
@click.argument("challenge_id", metavar="CHALLENGE")
@click.option(
    "--phase", "phase_id", help="Phase id (default: the phase open now, else the latest)."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@results_option
@root_option
def leaderboard(
    challenge_id: str, phase_id: str | None, fmt: str, results_dir: Path | None, root: Path
) -> None:
    """Print CHALLENGE's leaderboard for a phase as a table, JSON or CSV.

    Unreadable result records are reported on stderr and skipped.
    """
    from runner.leaderboard import board_to_csv, board_to_json, board_to_table, build_board
    from runner.loader import load_challenge
    from runner.records import load_results

    challenge = load_challenge(root / "challenges" / challenge_id)
    now = datetime.now(UTC)
    phase = pick_phase(challenge, phase_id, now)
    loaded = load_results(results_dir or root / "results", challenge.id)
    for problem in loaded.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    board = build_board(challenge, loaded.results, phase, now=now)
    render = {"table": board_to_table, "json": board_to_json, "csv": board_to_csv}[fmt]
    click.echo(render(board), nl=False)
    if fmt == "table":
        _notes(board, phase)


def _notes(board, phase: Phase) -> None:
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
