"""``challenge-runner import``: a challenge from an EvalAI or Codabench bundle."""

from __future__ import annotations

from pathlib import Path

import click

from runner.importers import KINDS, import_bundle
from runner.importers.common import KEY_ENV


@click.command(name="import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--challenges",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("challenges"),
    show_default=True,
    help="Where the challenge folder is written.",
)
@click.option("--id", "challenge_id", help="The challenge id (default: from the bundle's title).")
@click.option(
    "--image",
    help="Image the scoring program runs in (default: the bundle's docker_image, or "
    "python:3.11-slim for EvalAI). It must hold the program's libraries; nothing is pulled.",
)
@click.option(
    "--key-env",
    default=KEY_ENV,
    show_default=True,
    help="Name of the secret (environment variable: capitals, digits, _) holding the key.",
)
def import_(
    kind: str, path: Path, challenges: Path, challenge_id: str | None, image: str | None,
    key_env: str,
) -> None:  # fmt: skip
    """Import the challenge bundle at PATH (a folder or a zip) as a challenge folder.

    \b
    codabench: a bundle with competition.yaml (version 2), its tasks, reference and input
               data, scoring and ingestion programs, pages and starting kit.
    evalai:    a challenge folder with challenge_config.yaml, evaluation_script (folder or
               zip), annotations and templates (as in EvalAI-Starters).

    The original scoring program is copied unmodified and runs in the sandbox with the
    phase's reference data. Reference data and inputs are packed into hidden.tar.age with a
    fresh age key: the secret identity is printed ONCE on stdout; store it as the CI secret
    named by --key-env and never commit it. What could not be mapped is listed on stderr and
    at the top of challenge.yaml. Participants submit the original result file (a .zip is
    unpacked) as `predictions:` in their manifest. A Codabench bundle with an ingestion
    program becomes a code-submission challenge: participants commit their code (a folder or
    a .zip) as `code:`, and the ingestion program runs it in the sandbox on the phase's
    hidden inputs, in the program's image.
    """
    done = import_bundle(
        kind, path, challenges, challenge_id=challenge_id, image=image, key_env=key_env
    )
    for imported in done:
        click.echo(f"imported {imported.folder}", err=True)
        for note in imported.notes:
            click.echo(f"  not mapped: {note}", err=True)
    click.echo(
        f"the secret for {key_env} follows on stdout, shown ONCE: store it as a CI secret "
        "(and with the maintainers), never commit it",
        err=True,
    )
    click.echo(done[0].identity)
