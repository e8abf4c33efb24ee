"""``challenge-runner reveal``: decrypt private-split scores into clear records after the reveal."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from runner.cli.common import results_option, root_option
from runner.errors import ConfigError, DataError
from runner.models import Challenge


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


def demo_identity(challenge: Challenge) -> str | None:
    """The committed DEMO identity (``data.hidden.demo_key_file``), if the challenge has one.

    As in ``runner.data.open_hidden``: example challenges ship a public key so they can be
    run, and revealed, with no secret at all. Says so on stderr every time it is used.
    """
    demo = challenge.hidden.demo_key_file
    if demo is None:
        return None
    path = demo if demo.is_absolute() else challenge.root / demo
    click.echo(
        f"using the DEMO key {path.name}: it is public, so these private scores are not secret",
        err=True,
    )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the demo key file: {err}", path=str(path)) from err


def identity_of(challenge: Challenge, key_env: str | None) -> str:
    """The identity from ``--key-env``, else ``data.hidden.key_env``, else the demo key file.

    A variable named on the command line must be set: the demo key is the fallback only for
    the challenge's own ``key_env``.
    """
    var = key_env or challenge.hidden.key_env
    if key_env is None and not (var and os.environ.get(var, "").strip()):
        demo = demo_identity(challenge)
        if demo is not None:
            return demo
    return identity_from_env(var, challenge.id)


@click.command()
@click.argument("challenge_id", metavar="CHALLENGE")
@results_option
@click.option(
    "--key-env",
    help="Environment variable holding the age identity (default: data.hidden.key_env, "
    "then the challenge's data.hidden.demo_key_file if it has one).",
)
@root_option
def reveal(challenge_id: str, results_dir: Path | None, key_env: str | None, root: Path) -> int:
    """Write clear records of CHALLENGE's private scores whose reveal time has passed.

    Each sealed record gets a new record with scores.private in clear that supersedes it;
    nothing is overwritten, and running it again writes nothing new. Refuses before the
    reveal time, saying when it is. A record that cannot be decrypted stays sealed and is
    reported; the others are still revealed, and the exit status is then 1.
    """
    from runner.loader import load_challenge
    from runner.records import load_results
    from runner.reveal import reveal as reveal_records
    from runner.reveal import reveal_time, sealed_records

    challenge = load_challenge(root / "challenges" / challenge_id)
    identity = identity_of(challenge, key_env)
    results_dir = results_dir or root / "results"
    now = datetime.now(UTC)
    outcome = reveal_records(challenge, results_dir, identity, now)
    for path in outcome.written:
        click.echo(str(path))
    loaded = load_results(results_dir, challenge.id)
    for problem in loaded.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    for problem in outcome.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"revealed {len(outcome.written)} records", err=True)
    left = sealed_records(challenge, loaded.results)
    waiting = [r for r in left if reveal_time(challenge, r) > now]  # not due yet, not failed
    if outcome.problems:
        click.echo(
            f"{len(outcome.problems)} records could not be revealed and stay sealed: "
            "fix the errors above and run reveal again",
            err=True,
        )
    if waiting:
        first = min(reveal_time(challenge, r) for r in waiting)
        click.echo(f"{len(waiting)} records stay sealed until {first:%Y-%m-%d %H:%M} UTC", err=True)
    return 1 if outcome.problems else 0
