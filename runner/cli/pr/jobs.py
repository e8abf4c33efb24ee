"""``pr build``, ``pr stage``, ``pr ingest``, ``pr score``: one ready item's evaluation jobs
(``runner.github.stages`` does the work; these read the plan and the secrets)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from runner.cli.common import root_option
from runner.cli.pr.common import DIR, KEY_ENV, item_option, plan_option, with_key


@click.command()
@root_option
@plan_option
@item_option
@click.option("--out", type=DIR, required=True)
@click.option("--recipient-env", default="INGEST_RECIPIENT", show_default=True)
def build(root: Path, plan_dir: Path, item: str, out: Path, recipient_env: str) -> int:
    """Build a build: submission's image and save it encrypted to the ingest key (a job with
    no secrets runs this)."""
    from runner.github import stages
    from runner.github.prepare import read_plan

    found = stages.find_item(read_plan(plan_dir), item)
    recipient = stages.secret_env(os.environ, recipient_env)
    built = stages.build(plan_dir, found, root.absolute(), out, recipient)
    click.echo(f"build {item}: {built.status}")
    return 0


@click.command()
@root_option
@plan_option
@item_option
@click.option("--out", type=DIR, required=True)
@click.option("--recipient-env", default="INGEST_RECIPIENT", show_default=True)
@KEY_ENV
def stage(
    root: Path, plan_dir: Path, item: str, out: Path, recipient_env: str, key_env: str | None
) -> int:
    """Encrypt the hidden inputs (never the truth) to the ingest key, for the ingest job."""
    from runner.github import stages
    from runner.github.prepare import read_plan

    found = stages.find_item(read_plan(plan_dir), item)
    path = stages.stage(
        plan_dir,
        found,
        root.absolute(),
        out,
        with_key(plan_dir, found, root.absolute(), key_env),
        stages.secret_env(os.environ, recipient_env),
    )
    click.echo(f"staged inputs for {item}: {path}")
    return 0


@click.command()
@root_option
@plan_option
@item_option
@click.option("--staged", type=DIR, required=True, help="The stage job's output.")
@click.option("--out", type=DIR, required=True)
@click.option("--key-env", default="INGEST_KEY", show_default=True)
@click.option("--built", type=DIR, default=None, help="The build job's output (build: kinds).")
def ingest(
    root: Path,
    plan_dir: Path,
    item: str,
    staged: Path,
    out: Path,
    key_env: str,
    built: Path | None,
) -> int:
    """Run a container submission in the sandbox on the staged inputs."""
    from runner.github import stages
    from runner.github.prepare import read_plan

    found = stages.find_item(read_plan(plan_dir), item)
    identity = stages.secret_env(os.environ, key_env)
    got = stages.ingest(plan_dir, found, root.absolute(), staged, out, identity, built)
    click.echo(f"ingest {item}: {got.status}")
    return 0


@click.command()
@root_option
@plan_option
@item_option
@click.option("--ingested", type=DIR, default=None, help="The ingest job's output (containers).")
@click.option("--out", type=DIR, default="records", show_default=True, help="A results folder.")
@KEY_ENV
def score(
    root: Path, plan_dir: Path, item: str, ingested: Path | None, out: Path, key_env: str | None
) -> int:
    """Score one item against the hidden truth and write its record under OUT."""
    from runner.github import stages
    from runner.github.prepare import read_plan

    plan = read_plan(plan_dir)
    found = stages.find_item(plan, item)
    env = with_key(plan_dir, found, root.absolute(), key_env)
    path = stages.score(plan, plan_dir, found, root.absolute(), ingested, out, env)
    click.echo(f"recorded {path}")
    return 0
