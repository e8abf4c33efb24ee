"""``challenge-runner pr ...``: the steps of the pull-request workflows.

Inside GitHub Actions (``GITHUB_ACTIONS=true`` and an event file) the commands read the
event, talk to the API with ``GITHUB_TOKEN`` and post; locally they work on the working tree
and print the comment instead of posting it. See ``runner.github`` for the trust rules.
"""

from __future__ import annotations

import click

from runner.cli.pr import jobs, prepare, record, report, smoke


@click.group()
def pr() -> None:
    """Steps of the pull-request workflows: prepare, build, stage, ingest, score, record, report."""


for command in (
    prepare.prepare,
    jobs.build,
    jobs.stage,
    jobs.ingest,
    jobs.score,
    record.record,
    report.report,
    smoke.smoke,
):
    pr.add_command(command)
