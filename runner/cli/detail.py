"""``challenge-runner detail``: open a record's sealed maintainer detail."""

from __future__ import annotations

import json
from pathlib import Path

import click

from runner.cli.common import root_option
from runner.errors import DataError, RecordError


@click.command()
@click.argument("record", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key-env",
    help="Environment variable holding the challenge's age identity (default: "
    "data.hidden.key_env, then the challenge's demo key file if it has one).",
)
@root_option
def detail(record: Path, key_env: str | None, root: Path) -> None:
    """Print the maintainer detail sealed in RECORD (a result record's JSON file).

    The detail says what a participant is not told: the exact reason a predictions file
    was refused, a container's exit code and output, a scorer's traceback. It is encrypted
    to the challenge's recipient because it may quote hidden data: print it only where
    maintainers alone can read it (never in a public CI log).
    """
    from runner.cli.reveal import identity_of
    from runner.data.crypto import decrypt_text
    from runner.loader import load_challenge

    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RecordError(f"cannot read the record: {err}", path=str(record)) from err
    if not isinstance(data, dict) or not isinstance(data.get("challenge"), str):
        raise RecordError("not a result record (no challenge field)", path=str(record))
    sealed = data.get("detail")
    if not sealed:
        click.echo("(this record has no maintainer detail)", err=True)
        return
    challenge = load_challenge(root / "challenges" / data["challenge"])
    identity = identity_of(challenge, key_env)
    try:
        click.echo(decrypt_text(sealed, identity), nl=False)
    except DataError as err:
        raise DataError(f"cannot open the detail: {err.message}", path=str(record)) from err
