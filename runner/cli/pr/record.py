"""``pr record``: add the new records to the results store (copied, or pushed in CI)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import results_option, root_option
from runner.cli.pr.common import DIR

if TYPE_CHECKING:
    from runner.github.record import Outcome


@click.command()
@root_option
@click.option("--records", type=DIR, required=True, help="Records written by `pr score`.")
@results_option
@click.option(
    "--push",
    "branch",
    metavar="BRANCH",
    default=None,
    help="Commit the records on BRANCH of --remote and push, retrying while the branch "
    "moves (CI). Without it, copy them into --results.",
)
@click.option(
    "--remote",
    default="origin",
    show_default=True,
    help="With --push: a remote name or URL (in CI, the URL carrying the job's token).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="With --push: stop retrying a moving branch after this many seconds.",
)
@click.option(
    "--outcome",
    "outcome_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write what landed (JSON) here, for `pr report --recorded`.",
)
def record(
    root: Path,
    records: Path,
    results_dir: Path,
    branch: str | None,
    remote: str,
    timeout: float,
    outcome_path: Path | None,
) -> int:
    """Add the new records to the results store: never overwriting, limits checked again.

    A record already in the store is not added twice; a different file under its name is
    an error. A record over its submitter's limits in the store as it is now (another pull
    request was recorded first) is left out: "over the limit, not recorded". With --push a
    refusal that retrying cannot fix (protected branch, authentication, no such remote)
    stops at once.
    """
    from runner.errors import RunnerError
    from runner.github.record import Outcome

    try:
        results = results_dir or root / "results"
        outcome = _record(root.absolute(), records, results, branch, remote, timeout)
    except RunnerError as err:
        if outcome_path is not None:
            fallback = Outcome(records=(), error="the records could not be stored")
            getattr(err, "outcome", fallback).write(outcome_path)
        raise
    if outcome_path is not None:
        outcome.write(outcome_path)
    for fate in outcome.records:
        click.echo(f"{fate.state}: {fate.path}" + (f" ({fate.message})" if fate.message else ""))
    if branch is not None:
        click.echo(f"{branch} at {outcome.commit} after {outcome.attempts} attempt(s)")
    return 0


def _record(
    root: Path, records: Path, results: Path, branch: str | None, remote: str, timeout: float
) -> Outcome:
    from runner.github import push
    from runner.github.record import load_challenges, read_candidates, record_locally

    if branch is None:
        candidates = read_candidates(records, str(results))
        return record_locally(candidates, load_challenges(root, candidates))
    target = push.target_for(root, results, remote, branch)
    candidates = read_candidates(records, target.prefix)
    challenges = load_challenges(root, candidates)
    log = lambda line: click.echo(line, err=True)  # noqa: E731
    return push.push_records(target, candidates, challenges, push.Backoff(timeout=timeout), log=log)
