"""Options and output helpers shared by several commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

_START = time.monotonic()

root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Repository root (holds challenges/, submissions/, results/).",
)

results_option = click.option(
    "--results",
    "results_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder (default: ROOT/results).",
)

unsafe_option = click.option(
    "--unsafe-allow-missing-controls",
    "unsafe",
    is_flag=True,
    help="Run untrusted code even when the engine cannot enforce a sandbox control "
    "(memory, pids, CPU, output cap). Only for trusted submissions, on a machine "
    "you can afford to lose.",
)


def echo_progress(message: str) -> None:
    """Progress of long work, on stderr so stdout stays machine-readable."""
    click.echo(f"[{time.monotonic() - _START:6.1f}s] {message}", err=True)
    sys.stderr.flush()
