"""``pr prepare``: validate what the pull request submits and write the plan."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import root_option
from runner.cli.pr.common import DIR, client

if TYPE_CHECKING:
    from runner.github.prepare import Item
    from runner.github.sticky import Annotation


def _outputs(values: dict[str, str]) -> None:
    """Step outputs for later jobs (``$GITHUB_OUTPUT``); printed locally."""
    target = os.environ.get("GITHUB_OUTPUT")
    lines = [f"{k}={v}" for k, v in values.items()]
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def _matrix(items: Iterable[Item]) -> str:
    # `challenge` names the job's environment (challenge-<id>), which holds that key alone;
    # `runs_on` the ingest job's runner labels (challenge.yaml's runs_on, e.g. a GPU runner).
    return json.dumps(
        {
            "include": [
                {
                    "item": i.key,
                    "slug": i.slug,
                    "kind": i.kind,
                    "challenge": i.challenge,
                    "runs_on": list(i.runs_on) or ["ubuntu-latest"],
                }
                for i in items
            ]
        }
    )


@click.command()
@root_option
@click.option("--out", type=DIR, default="prepared", show_default=True, help="Where the plan goes.")
@click.option("--check", is_flag=True, help="Exit 1 when anything is invalid (for validate.yml).")
@click.argument("manifests", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def prepare(root: Path, out: Path, check: bool, manifests: tuple[Path, ...]) -> int:
    """Validate what the pull request submits and write OUT/plan.json.

    In GitHub Actions the PR's files are read through the API at the head SHA (never
    checked out); locally, pass the MANIFESTS to check.
    """
    from runner.github.event import in_github_actions, read_event
    from runner.github.prepare import prepare_github, prepare_local, write_plan
    from runner.github.sticky import annotation_lines

    now = datetime.now(UTC)
    if in_github_actions():
        event = read_event()
        plan = prepare_github(event, client(event), root.absolute(), out.absolute(), now)
    else:
        if not manifests:
            raise click.UsageError("outside GitHub Actions, name the manifests to prepare")
        plan = prepare_local(list(manifests), root.absolute(), out.absolute(), now)
    write_plan(plan, out)
    invalid = [i for i in plan.items if i.status == "invalid"]
    for line in annotation_lines(_annotations(invalid)):
        click.echo(line)
    for item in plan.items:
        click.echo(
            f"{item.key}: {item.status}"
            + (f" ({len(item.problems)} problem(s))" if item.problems else "")
        )
    containers = [i for i in plan.ready if i.kind != "predictions"]
    _outputs(
        {
            "ready": "true" if plan.ready else "false",
            "matrix": _matrix(plan.ready),
            "containers": _matrix(containers),
            "has_containers": "true" if containers else "false",
        }
    )
    return 1 if check and invalid else 0


def _annotations(items: Iterable[Item]) -> list[Annotation]:
    from runner.github.sticky import problem_annotation

    return [problem_annotation(p) for item in items for p in item.problems]
