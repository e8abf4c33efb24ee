"""``challenge-runner plan``: the evaluations that need a run, as a GitHub Actions matrix.

A submission needs a run when no record of it is current: none whose manifest and challenge
hashes match the files now (a changed manifest, scorer or challenge makes records stale) and
whose status is not ``error`` (a platform failure is retried). ``--changed-since REF`` keeps
only submissions whose folder or challenge changed since REF (``git diff REF``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runner.cli.common import results_option, root_option
from runner.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from runner.models import Challenge, Result, Submission


def changed_paths(root: Path, ref: str) -> list[str]:
    """Paths changed between REF and the working tree, by git."""
    try:
        out = subprocess.run(
            ["git", "diff", "--name-only", "--no-renames", ref, "--", "challenges", "submissions"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or str(err)
        raise ConfigError(f"--changed-since {ref}: git diff failed: {detail.strip()}") from err
    return [line for line in out.stdout.splitlines() if line]


def is_current(submission: Submission, challenge: Challenge, results: Iterable[Result]) -> bool:
    """Whether a non-error record has the cache key `run` would compute now.

    The same key as ``runner.evaluation.prepare``: challenge, hidden data, the submitted
    artifact (predictions file, image or build context, with the manifest) and runner
    version. Without the data (plan runs without it), the declared sha256 stands for it.
    """
    from runner.evaluation import artifact_sha256, evaluation_key

    artifact = artifact_sha256(submission)
    for r in results:
        if (r.challenge, r.participant, r.submission) != (
            submission.challenge,
            submission.participant,
            submission.name,
        ) or r.status == "error":
            continue
        data = challenge.hidden.sha256 or r.provenance.data_sha256
        if r.cache_key == evaluation_key(challenge, data, artifact):
            return True
    return False


def touched(submission: Submission, root: Path, changed: list[str]) -> bool:
    folder = str(submission.folder.relative_to(root)) + "/"
    prefix = f"challenges/{submission.challenge}/"
    return any(p.startswith(folder) or p.startswith(prefix) for p in changed)


@click.command()
@root_option
@click.option(
    "--changed-since", "ref", metavar="REF", help="Only submissions changed since this git ref."
)
@results_option
def plan(root: Path, ref: str | None, results_dir: Path | None) -> int:
    """Print a JSON matrix ({"include": [...]}) of submissions without a current record.

    Invalid manifests and unreadable records are left out and listed on stderr, so the
    matrix on stdout stays machine-readable.
    """
    from runner.loader import load_repo
    from runner.records import load_results

    root = root.absolute()
    repo = load_repo(root)
    loaded = load_results(results_dir or root / "results")
    for problem in [*repo.problems, *loaded.problems]:
        click.echo(f"skipped: {problem}", err=True)
    results = loaded.results
    changed = changed_paths(root, ref) if ref else None
    include = []
    for sub in repo.submissions:
        if is_current(sub, repo.challenges[sub.challenge], results):
            continue
        if changed is not None and not touched(sub, root, changed):
            continue
        include.append(
            {
                "challenge": sub.challenge,
                "entrant": sub.entrant,
                "name": sub.name,
                "kind": sub.kind,
                "manifest": str(sub.path.relative_to(root)),
            }
        )
    click.echo(json.dumps({"include": include}))
    return 0
