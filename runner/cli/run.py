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
@click.option(
    "--no-limits",
    is_flag=True,
    help="Do not enforce the phases' submission limits (every submission is evaluated).",
)
@unsafe_option
def run(
    root: Path,
    results_dir: Path | None,
    output: Path | None,
    only: tuple[str, ...],
    no_site: bool,
    force: bool,
    no_limits: bool,
    unsafe: bool,
) -> int:
    """Evaluate every submission that has no current result record, then build the site.

    A record is current when the challenge definition, the hidden data, the submission
    and the runner version are all unchanged since it was written; anything else is
    evaluated again. Invalid files are reported and skipped. The site is built into
    ROOT/public (open public/index.html, or run `challenge-runner site serve`).

    Submission limits hold as in CI: submissions are taken in manifest order, each new
    evaluation counts those before it, and one beyond its participant's or team's limit is
    not evaluated and not counted (a later run evaluates it when the limit allows).
    Re-evaluations after a change to the challenge, the data or the runner take no quota.
    --force evaluations are new evaluations and do count; --no-limits turns limits off.

    Hidden data comes from each challenge's data.hidden source; an encrypted one needs the
    age identity in the environment variable its data.hidden.key_env names (or its
    committed demo key). A challenge whose data cannot be opened is reported once.

    Exit 0 when every valid submission has a record (or waits for its limit) and the site
    built; 1 otherwise.
    """
    from runner.evaluation import run_all

    root = root.absolute()
    report = run_all(
        root,
        results_dir=(results_dir or root / "results").absolute(),
        only=set(only),
        force=force,
        unsafe=unsafe,
        enforce_limits=not no_limits,
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
