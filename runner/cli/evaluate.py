"""``challenge-runner evaluate MANIFEST``: evaluate one submission locally and record it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import echo_progress, results_option, root_option, unsafe_option

if TYPE_CHECKING:
    from runner.models import Challenge, Result


def _env(key_env: str | None, challenge: Challenge) -> dict[str, str]:
    env = dict(os.environ)
    if key_env:
        if key_env not in env:
            from runner.errors import DataError

            raise DataError(f"--key-env {key_env}: that environment variable is not set")
        if challenge.hidden.key_env:
            env[challenge.hidden.key_env] = env[key_env]
    return env


def summary_lines(result: Result, challenge: Challenge | None = None) -> list[str]:
    """A short human summary of a record: status, message, scores at the challenge's display
    precision (what the board and the site show; 4 decimals without a challenge)."""
    lines = [
        f"status: {result.status}" + (f" ({result.message})" if result.status != "scored" else "")
    ]
    places = _precisions(challenge)
    for metric, s in result.scores.get("public", {}).items():
        p = places.get(metric, 4)
        ci = f"  [{s.ci_low:.{p}f}, {s.ci_high:.{p}f}]" if s.ci_low is not None else ""
        lines.append(f"  public {metric}: {s.value:.{p}f}{ci}")
    if result.private:
        lines.append("  private scores: sealed until the reveal")
    for metric, s in result.scores.get("private", {}).items():
        lines.append(f"  private {metric}: {s.value:.{places.get(metric, 4)}f}")
    return lines


def _precisions(challenge: Challenge | None) -> dict[str, int]:
    if challenge is None:
        return {}
    return {spec.name: spec.precision for spec in challenge.metrics}


def _print_output(output: str | None, data_dir: Path | None) -> None:
    """The container's last output lines: shown for a run on the caller's own --data only."""
    if output is None or data_dir is None:
        return
    from runner.github.smoke import MAX_LINES, shown_output

    click.echo(f"container output (last {MAX_LINES} lines at most; --data is your own data):")
    click.echo(
        "\n".join(f"  {line}" for line in (shown_output(output) or "(no output)").split("\n"))
    )


def _shown(path: Path, root: Path) -> Path:
    return path.relative_to(root) if path.is_relative_to(root) else path


@click.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@root_option
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Use this hidden-data folder (inputs/ + truth.csv) instead of the challenge's source.",
)
@click.option(
    "--key-env",
    metavar="VAR",
    help="Read the challenge's decryption key from this environment variable.",
)
@results_option
@click.option(
    "--force", is_flag=True, help="Evaluate again even if an identical evaluation is recorded."
)
@click.option("--no-limits", is_flag=True, help="Do not enforce the phase's submission limits.")
@click.option("--json", "as_json", is_flag=True, help="Print the result record as JSON.")
@unsafe_option
def evaluate(
    manifest: Path,
    root: Path,
    data_dir: Path | None,
    key_env: str | None,
    results_dir: Path | None,
    force: bool,
    no_limits: bool,
    as_json: bool,
    unsafe: bool,
) -> int:
    """Evaluate one submission MANIFEST and write its result record.

    Loads the challenge and the submission, obtains the hidden data, runs the container in
    the sandbox (or takes the predictions file), scores it and writes
    results/<challenge>/<participant>/<name>/<evaluation-id>.json. An identical evaluation
    already recorded is not run again (see --force).

    With --data (your own inputs/ + truth.csv, e.g. made from the public training set), a
    container's last output lines are printed too; a run on the challenge's hidden data
    shows only its status, as in CI.

    Exit 0 when the submission was scored, 1 when it was not (the record says why).
    """
    from runner.evaluation import Options
    from runner.evaluation import evaluate as run_evaluation
    from runner.loader import load_repo, load_submission
    from runner.records import result_to_dict

    root = root.absolute()
    repo = load_repo(root)
    submission = load_submission(
        manifest.absolute(), root=root, challenges=repo.challenges, teams=repo.teams
    )
    challenge = repo.challenges[submission.challenge]
    options = Options(
        results_dir=(results_dir or root / "results").absolute(),
        data_dir=data_dir,
        data_option="--data DIR",
        env=_env(key_env, challenge),
        unsafe=unsafe,
        force=force,
        enforce_limits=not no_limits,
        progress=echo_progress,
        show_output=data_dir is not None,
    )
    done = run_evaluation(challenge, submission, options)
    result = done.result
    if as_json:
        click.echo(json.dumps(result_to_dict(result), indent=2))
    else:
        where = f"recorded in {_shown(done.path, root)}" if done.path else "already recorded"
        click.echo(f"{challenge.id}/{submission.entrant}/{submission.name}: {where}")
        click.echo("\n".join(summary_lines(result, challenge)))
        _print_output(done.output, data_dir)
    return 0 if result.status == "scored" else 1
