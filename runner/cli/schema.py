"""``challenge-runner schema NAME``: print a JSON Schema shipped with the runner."""

from __future__ import annotations

import click

from runner.schemas import NAMES, schema_text


@click.command()
@click.argument("name", type=click.Choice(NAMES))
def schema(name: str) -> None:
    """Print the JSON Schema (draft-07) for NAME: challenge, submission, teams or result.

    Point your editor at it for completion, e.g. the first line of a manifest:
    # yaml-language-server: $schema=https://challenge-runner.dev/schemas/submission.schema.json
    """
    click.echo(schema_text(name), nl=False)
