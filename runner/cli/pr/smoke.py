"""``pr smoke``: run ready container submissions on the public sample inputs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from runner.cli.common import root_option
from runner.cli.pr.common import plan_option


@click.command()
@root_option
@plan_option
def smoke(root: Path, plan_dir: Path) -> int:
    """Run each ready container submission in the sandbox on the challenge's public
    sample inputs (``<public>/sample-inputs/``); exit 1 if one does not produce predictions.

    For validate.yml: no secret and no hidden data are involved, so the container's output
    (its last lines, escaped) is printed and written to the step summary.
    """
    import tempfile

    from runner.evaluation import build, ingest
    from runner.github.prepare import read_plan
    from runner.github.smoke import SmokeRun, log_lines, summary_markdown
    from runner.github.stages import load_item
    from runner.github.sticky import write_step_summary
    from runner.sandbox.run import output_tail

    runs = []
    for item in read_plan(plan_dir).ready:
        if item.kind == "predictions":
            continue
        challenge, submission = load_item(plan_dir, item, root.absolute())
        inputs = (challenge.public_dir or challenge.root / "public") / "sample-inputs"
        if not inputs.is_dir():
            click.echo(f"{item.key}: no public sample inputs ({inputs.name}/); smoke run skipped")
            continue
        with tempfile.TemporaryDirectory(prefix="cr-smoke-") as work:
            built, image = build(challenge, submission)
            got = ingest(
                challenge, submission, inputs, Path(work), built=built, image=image,
                public_inputs=True,  # sample inputs: the exact exit code may be shown
            )  # fmt: skip
        runs.append(SmokeRun(item.key, got.status, got.message, output_tail(got.detail or "")))
        for line in log_lines(runs[-1]):
            click.echo(line)
    if runs:
        write_step_summary(summary_markdown(runs), os.environ)
    return 1 if any(r.status != "ok" for r in runs) else 0
