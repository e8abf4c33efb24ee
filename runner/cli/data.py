"""``challenge-runner data``: make age keys and encrypted hidden-data archives."""

from __future__ import annotations

import os
from pathlib import Path

import click

from runner import data as hidden_data
from runner.data.crypto import key_file_text
from runner.errors import DataError


@click.group()
def data() -> None:
    """Make keys and encrypted hidden-data archives.

    \b
    Typical use, once per challenge:
      challenge-runner data keygen -o hidden-key.txt
      challenge-runner data pack hidden/ --recipient age1... -o challenges/ID/hidden.tar.age
    then paste the printed `hidden:` snippet into challenges/ID/challenge.yaml, store the
    contents of hidden-key.txt as a CI secret (e.g. CHALLENGE_KEY), and keep hidden/ and
    hidden-key.txt out of the repository.
    """


@data.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the secret identity to this new file (mode 0600). Without it, the key file "
    "is printed to stdout.",
)
def keygen(output: Path | None) -> None:
    """Make an age key pair for a challenge's hidden data.

    The recipient (age1..., public) is what `data pack --recipient` and challenge.yaml's
    data.hidden.recipient take. The identity (AGE-SECRET-KEY-1..., secret) decrypts the data:
    give it to CI as a secret and to maintainers only. With --output, stdout is the
    recipient alone; an existing file is never overwritten.
    """
    identity, recipient = hidden_data.keygen()
    text = key_file_text(identity, recipient)
    if output is None:
        click.echo(
            "warning: the AGE-SECRET-KEY line below is secret; store it somewhere safe "
            "(losing it makes the archive unreadable) and never commit it",
            err=True,
        )
        click.echo(text, nl=False)
        return
    _write_secret(output, text)
    click.echo(recipient)
    click.echo(f"identity written to {output} (mode 0600): keep it secret", err=True)


def _write_secret(path: Path, text: str) -> None:
    try:
        # O_EXCL: overwriting a key would make every archive packed for it unreadable.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as err:
        raise DataError(
            "already exists; choose another file name, or delete it if it is not needed",
            path=str(path),
        ) from err
    except OSError as err:
        raise DataError(f"cannot create the key file: {err.strerror}", path=str(path)) from err
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@data.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-r",
    "--recipient",
    "recipients",
    multiple=True,
    required=True,
    metavar="AGE1...",
    help="Public key (age1...) that may decrypt the archive; repeat for several key holders.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The encrypted archive to write, usually challenges/ID/hidden.tar.age.",
)
@click.option(
    "--key-env",
    default="CHALLENGE_KEY",
    show_default=True,
    help="Environment variable name to put in the printed snippet as key_env.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing archive (records made with the old one become stale).",
)
def pack(
    directory: Path, recipients: tuple[str, ...], output: Path, key_env: str, force: bool
) -> None:
    """Encrypt a hidden-data folder into an archive.

    DIRECTORY must hold inputs/ (what submissions read as /input) and truth.csv (what only
    the scorer reads), or reference/ for a challenge scored by an imported program. The
    archive is a deterministic tar.gz encrypted to every --recipient. Prints the sha256 of
    the archive and a `hidden:` snippet for challenge.yaml; progress goes to stderr. An
    existing archive is never replaced without --force.
    """
    if output.exists() and not force:
        raise DataError(
            "already exists; pass --force to replace it (its sha256 in challenge.yaml must "
            "then change too), or choose another file name",
            path=str(output),
        )
    say = lambda message: click.echo(message, err=True)  # noqa: E731
    sha256 = hidden_data.pack(directory, recipients, output, progress=say)
    click.echo(f"sha256: {sha256}")
    click.echo(
        "\n# Paste under `data:` in challenge.yaml (source is relative to the challenge "
        "folder):\n"
        "hidden:\n"
        f"  source: {output.name}\n"
        f"  sha256: {sha256}\n"
        f"  key_env: {key_env}\n"
        f"  recipient: {recipients[0]}"
    )
