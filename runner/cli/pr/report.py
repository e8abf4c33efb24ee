"""``pr report``: post (in GitHub Actions) or print one comment per challenge."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import root_option
from runner.cli.pr.common import DIR, client, plan_option

if TYPE_CHECKING:
    from runner.github.prepare import Plan


def _plan_or_error(plan_dir: Path) -> Plan:
    """The plan; in GitHub Actions a missing plan (prepare failed) becomes a report of the
    platform's error, so the participant hears of it instead of waiting forever."""
    from runner.errors import ConfigError
    from runner.github.event import in_github_actions, read_event
    from runner.github.prepare import platform_error_plan, read_plan

    try:
        return read_plan(plan_dir)
    except ConfigError:
        if not in_github_actions():
            raise
        click.echo("no plan: the prepare job failed; reporting the platform's error", err=True)
        return platform_error_plan(read_event())


@click.command()
@root_option
@plan_option
@click.option("--records", type=DIR, default=None, help="Records written by `pr score`.")
@click.option("--pending", is_flag=True, help="Report ready items as being evaluated.")
@click.option(
    "--bot-login",
    envvar="CHALLENGE_RUNNER_BOT_LOGIN",
    default=None,
    help="The login the token comments as.",
)
@click.option(
    "--recorded",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The outcome `pr record --outcome` wrote: records that did not land are reported "
    "as not recorded (a missing file: none landed).",
)
def report(
    root: Path,
    plan_dir: Path,
    records: Path | None,
    pending: bool,
    bot_login: str | None,
    recorded: Path | None,
) -> int:
    """Post (in GitHub Actions) or print (locally) one comment per challenge."""
    from runner.github.event import in_github_actions
    from runner.github.publish import publish_reports

    plan = _plan_or_error(plan_dir)
    github = in_github_actions() and plan.event is not None
    lines = publish_reports(
        plan,
        root.absolute(),
        records,
        pending=pending,
        client=client(plan.event) if github and plan.event else None,
        bot_login=bot_login,
        recorded=recorded,
    )
    for line in lines:
        click.echo(line)
    return 0
