"""``challenge-runner reveal``: decrypt private-split scores into clear records after the reveal."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from runner.cli.common import results_option, root_option
from runner.errors import ConfigError


def identity_from_env(var: str | None, challenge_id: str) -> str:
    """The age identity held in the environment variable ``var``."""
    if not var:
        raise ConfigError(
            f"challenge {challenge_id} names no data.hidden.key_env: pass --key-env VAR, the "
            "environment variable holding the challenge's AGE-SECRET-KEY-1... identity"
        )
    value = os.environ.get(var, "")
    if not value.strip():
        raise ConfigError(
            f"environment variable {var} is not set: export it with the challenge's age "
            f'identity (e.g. export {var}="$(cat hidden-key.txt)")'
        )
    return value


@click.command()
@click.argument("challenge_id", metavar="CHALLENGE")
@results_option
@click.option(
    "--key-env",
    help="Environment variable holding the age identity (default: data.hidden.key_env).",
)
@root_option
def reveal(challenge_id: str, results_dir: Path | None, key_env: str | None, root: Path) -> None:
    """Write clear records of CHALLENGE's private scores whose reveal time has passed.

    Each sealed record gets a new record with scores.private in clear that supersedes it;
    nothing is overwritten, and running it again writes nothing new. Refuses before the
    reveal time, saying when it is.
    """
    from runner.loader import load_challenge
    from runner.records import load_results
    from runner.reveal import reveal as reveal_records
    from runner.reveal import reveal_time, sealed_records

    challenge = load_challenge(root / "challenges" / challenge_id)
    identity = identity_from_env(key_env or challenge.hidden.key_env, challenge.id)
    results_dir = results_dir or root / "results"
    now = datetime.now(UTC)
    written = reveal_records(challenge, results_dir, identity, now)
    for path in written:
        click.echo(str(path))
    loaded = load_results(results_dir, challenge.id)
    for problem in loaded.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    left = sealed_records(challenge, loaded.results)
    click.echo(f"revealed {len(written)} records", err=True)
    if left:
        first = min(reveal_time(challenge, r) for r in left)
        click.echo(f"{len(left)} records stay sealed until {first:%Y-%m-%d %H:%M} UTC", err=True)
