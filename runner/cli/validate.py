"""``challenge-runner validate``: check every file and report every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import click

from runner.errors import EXIT_OK, EXIT_USER
from runner.loader import Problem, check_challenge, check_submission, check_teams, load_repo


def github_annotation(problem: Problem) -> str:
    """A ``::error`` workflow command that GitHub shows on the file's line."""
    from runner.github.sticky import annotation_lines, problem_annotation

    return annotation_lines([problem_annotation(problem, "challenge-runner validate")])[0]


def render(problems: list[Problem], fmt: str, checked: int) -> str:
    if fmt == "json":
        return json.dumps(
            {"valid": not problems, "files": checked, "problems": [p.to_dict() for p in problems]},
            indent=2,
        )
    if fmt == "github":
        return "\n".join(github_annotation(p) for p in problems)
    lines = [str(p) for p in problems]
    summary = f"{checked} file(s) checked: "
    summary += f"{len(problems)} problem(s)" if problems else "all valid"
    return "\n".join([*lines, summary])


def _check_paths(paths: tuple[Path, ...], root: Path) -> tuple[list[Problem], int]:
    repo = load_repo(root)  # the challenges and teams that manifests are checked against
    problems: list[Problem] = []
    for path in paths:
        path = path.absolute()
        if path.is_dir() or path.name == "challenge.yaml":
            found = check_challenge(path, root)[1]
        elif path.name == "teams.yaml":
            found = check_teams(path, root)[1]
        else:
            found = check_submission(path, root, repo.challenges, repo.teams)[1]
        problems += found
    return problems, len(paths)


def _scorer_problems(root: Path) -> list[Problem]:
    from runner.scorercheck import check_scorer

    problems = []
    for challenge in load_repo(root).challenges.values():
        if challenge.scoring is None:
            continue
        shown = str(challenge.scoring.relative_to(root))
        problems += [Problem(shown, None, None, "", text) for text in check_scorer(challenge)]
    return problems


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for workflow annotations.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Repository root (holds challenges/, submissions/, teams.yaml).",
)
@click.option(
    "--run-scorers",
    is_flag=True,
    help="Also call each challenge's scoring.py on made-up rows and check what score() "
    "returns. Runs maintainer code: not for pull requests that change challenges.",
)
def validate(paths: tuple[Path, ...], fmt: str, root: Path, run_scorers: bool) -> int:
    """Validate challenges, submission manifests and teams.yaml.

    With no PATHS, checks the whole repository under --root. Every problem is reported,
    each with file, line:column, JSON path and how to fix it. Exit 0 when all is valid,
    1 when there are problems.
    """
    root = root.absolute()
    if paths:
        problems, checked = _check_paths(paths, root)
    else:
        repo = load_repo(root)
        problems = list(repo.problems)
        checked = repo.files_checked
    if run_scorers:
        problems += _scorer_problems(root)
    output = render(problems, fmt, checked)
    if output:
        click.echo(output)
    return EXIT_USER if problems else EXIT_OK
