"""``challenge-runner pr ...``: the steps of the pull-request workflows.

Inside GitHub Actions (``GITHUB_ACTIONS=true`` and an event file) the commands read the
event, talk to the API with ``GITHUB_TOKEN`` and post; locally they work on the working tree
and print the comment instead of posting it. See ``runner.github`` for the trust rules.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import results_option, root_option

if TYPE_CHECKING:
    from runner.github.client import GitHubClient
    from runner.github.event import PullRequestEvent
    from runner.github.prepare import Item, Plan
    from runner.github.record import Outcome
    from runner.github.sticky import Annotation

DIR = click.Path(file_okay=False, path_type=Path)
plan_option = click.option(
    "--plan", "plan_dir", type=DIR, required=True, help="The prepare job's output (plan.json)."
)
item_option = click.option(
    "--item", required=True, help="challenge/participant/name of a ready item of the plan."
)


def _client(event: PullRequestEvent) -> GitHubClient:
    from runner.errors import GitHubError
    from runner.github.client import GitHubClient

    token = os.environ.get("GITHUB_TOKEN")
    if not token:
        raise GitHubError("GITHUB_TOKEN is not set: pass it to this step through env:")
    return GitHubClient(event.api_url, token, event.repo)


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


KEY_ENV = click.option(
    "--key-env",
    default=None,
    metavar="VAR",
    help="Read the challenge's age identity from VAR (e.g. CHALLENGE_KEY, the secret of the "
    "environment challenge-<id>) instead of its data.hidden.key_env.",
)


def _with_key(plan_dir: Path, item: Item, root: Path, key_env: str | None) -> Mapping[str, str]:
    """The environment, with ``--key-env``'s value under the challenge's own key_env name."""
    if key_env is None:
        return os.environ
    from runner.errors import DataError
    from runner.github.stages import load_item

    if not os.environ.get(key_env):
        raise DataError(
            f"--key-env {key_env}: that environment variable is not set; give the environment "
            f"challenge-{item.challenge} a secret {key_env} holding the challenge's key"
        )
    challenge, _ = load_item(plan_dir, item, root)
    env = dict(os.environ)
    if challenge.hidden.key_env:
        env[challenge.hidden.key_env] = env[key_env]
    return env


@click.group()
def pr() -> None:
    """Steps of the pull-request workflows: prepare, build, stage, ingest, score, record, report."""


@pr.command()
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
        plan = prepare_github(event, _client(event), root.absolute(), out.absolute(), now)
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


@pr.command()
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


@pr.command()
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
        _with_key(plan_dir, found, root.absolute(), key_env),
        stages.secret_env(os.environ, recipient_env),
    )
    click.echo(f"staged inputs for {item}: {path}")
    return 0


@pr.command()
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


@pr.command()
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
    env = _with_key(plan_dir, found, root.absolute(), key_env)
    path = stages.score(plan, plan_dir, found, root.absolute(), ingested, out, env)
    click.echo(f"recorded {path}")
    return 0


@pr.command()
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
    from runner.github.record import copy_records, load_challenges, outcome_of, read_candidates

    if branch is None:
        candidates = read_candidates(records, str(results))
        challenges = load_challenges(root, candidates)
        return outcome_of(copy_records(candidates, challenges), candidates)
    target = push.target_for(root, results, remote, branch)
    candidates = read_candidates(records, target.prefix)
    challenges = load_challenges(root, candidates)
    log = lambda line: click.echo(line, err=True)  # noqa: E731
    return push.push_records(target, candidates, challenges, push.Backoff(timeout=timeout), log=log)


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


@pr.command()
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
        client=_client(plan.event) if github and plan.event else None,
        bot_login=bot_login,
        recorded=recorded,
    )
    for line in lines:
        click.echo(line)
    return 0


@pr.command()
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
