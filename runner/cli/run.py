"""``challenge-runner run``: the main job — evaluate what is new, then build the site."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.common import echo_progress, results_option, root_option, unsafe_option


@click.command()
@root_option
@results_option
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the site is built (default: ROOT/public).",
)
@click.option(
    "--challenge", "only", multiple=True, metavar="ID", help="Only this challenge (repeatable)."
)
@click.option("--no-site", is_flag=True, help="Evaluate only; do not build the site.")
@click.option("--force", is_flag=True, help="Evaluate every submission again.")
@unsafe_option
def run(
    root: Path,
    results_dir: Path | None,
    output: Path | None,
    only: tuple[str, ...],
    no_site: bool,
    force: bool,
    unsafe: bool,
) -> int:
    """Evaluate every submission that has no current result record, then build the site.

    A record is current when the challenge definition, the hidden data, the submission
    and the runner version are all unchanged since it was written; anything else is
    evaluated again. Invalid files are reported and skipped. The site is built into
    ROOT/public (open public/index.html, or run `challenge-runner site serve`).

    Exit 0 when every valid submission has a record and the site built; 1 otherwise.
    """
    from runner.evaluation import run_all

    root = root.absolute()
    report = run_all(
        root,
        results_dir=(results_dir or root / "results").absolute(),
        only=set(only),
        force=force,
        unsafe=unsafe,
        progress=echo_progress,
    )
    for line in report.lines():
        click.echo(line)
    ok = report.ok
    if not no_site:
        from runner.site import build_site

        target = (output or root / "public").absolute()
        echo_progress(f"building the site into {target}")
        build_site(root, target)
        click.echo(f"site: {target}/index.html")
    return 0 if ok else 1
