"""Report to the pull request: the sticky comment, commit status, labels, summary, annotations.

One comment per challenge per pull request. Its first line is a hidden marker
``<!-- challenge-runner challenge=ID sha=HEADSHA -->``. To update, every page of the PR's
comments is read and only comments whose author is the bot's own login count (anyone can
paste the marker into a comment of their own). The first such comment for the challenge is
edited in place; if there is none, one is created.

A run never overwrites a comment about a newer commit. Order is decided by git ancestry
through the compare API (``compare(theirs...ours)``: ``ahead`` or ``identical`` means ours is
newer or the same; ``behind`` means ours is older). After a force-push the two commits may
have ``diverged``: then the committer dates decide, and a tie or an unreachable old commit
lets the current run write. The evaluate workflow also serialises report jobs per PR with a
concurrency group, so two runs do not race between reading and writing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.errors import GitHubError
from runner.github.client import GitHubClient
from runner.github.escape import workflow_data, workflow_property
from runner.loader.problems import Problem
from runner.status import TABLE as STATUS_TABLE

DEFAULT_BOT_LOGIN = "github-actions[bot]"  # the login GITHUB_TOKEN's comments carry
MARKER = re.compile(
    r"\A<!-- challenge-runner challenge=([a-z0-9][a-z0-9-]{0,62}) sha=([0-9a-f]{40}) -->"
)
STATUS_CONTEXT = "challenge-runner"
# Labels this runner owns (a run sets one and removes the others), and commit states.
LABELS: dict[str, str] = {s.name: s.label for s in STATUS_TABLE}
COMMIT_STATE: dict[str, str] = {s.name: s.commit_state for s in STATUS_TABLE}


@dataclass(frozen=True)
class StickyOutcome:
    action: str  # created | updated | skipped-stale
    comment_id: int | None
    previous_sha: str | None = None


def parse_marker(body: str) -> tuple[str, str] | None:
    """(challenge, sha) from a comment's first line, or None."""
    match = MARKER.match(body or "")
    return (match[1], match[2]) if match else None


def find_sticky(
    client: GitHubClient, number: int, challenge: str, bot_login: str
) -> tuple[int, str] | None:
    """(comment id, sha in its marker) of the bot's comment for ``challenge``, across all pages."""
    for comment in client.comments(number):
        if comment.login.lower() != bot_login.lower():
            continue  # a foreign comment carrying our marker is never ours to edit
        parsed = parse_marker(comment.body)
        if parsed and parsed[0] == challenge:
            return comment.id, parsed[1]
    return None


def is_older(client: GitHubClient, ours: str, theirs: str) -> bool:
    """Whether commit ``ours`` comes before ``theirs`` (see the module docstring)."""
    if ours == theirs:
        return False
    try:
        status = client.compare(theirs, ours)
    except GitHubError:
        return False  # the old commit is gone (force-push + gc): the current head wins
    if status in ("ahead", "identical"):
        return False
    if status == "behind":
        return True
    try:
        return client.commit_date(ours) < client.commit_date(theirs)
    except GitHubError:
        return False


def post_sticky(
    client: GitHubClient,
    number: int,
    challenge: str,
    head_sha: str,
    body: str,
    bot_login: str = DEFAULT_BOT_LOGIN,
) -> StickyOutcome:
    """Create or update the sticky comment; refuse to overwrite one about a newer commit."""
    found = find_sticky(client, number, challenge, bot_login)
    if found is None:
        return StickyOutcome("created", client.create_comment(number, body))
    comment_id, their_sha = found
    if is_older(client, head_sha, their_sha):
        return StickyOutcome("skipped-stale", comment_id, their_sha)
    client.edit_comment(number, comment_id, body)
    return StickyOutcome("updated", comment_id, their_sha)


def set_commit_status(
    client: GitHubClient,
    sha: str,
    status: str,
    description: str,
    challenge: str,
    run_url: str | None,
) -> None:
    """A commit status per challenge (``challenge-runner/<id>``)."""
    state = COMMIT_STATE.get(status, "failure")
    client.set_status(sha, state, description, f"{STATUS_CONTEXT}/{challenge}", run_url)


def set_status_label(client: GitHubClient, number: int, status: str) -> None:
    """Give the PR the label for ``status`` and drop this runner's other status labels."""
    label = LABELS.get(status, "error")
    others = tuple(sorted({x for x in LABELS.values() if x != label}))
    client.set_labels(number, (label,), others)


def write_step_summary(markdown: str, env: Mapping[str, str]) -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` (the job page; shown for fork PRs too)."""
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(markdown.rstrip("\n") + "\n\n")
    return True


@dataclass(frozen=True)
class Annotation:
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    title: str | None = None
    level: str = "error"


def problem_annotation(problem: Problem, title: str | None = None) -> Annotation:
    """The GitHub annotation of a validation problem, on its file and line."""
    message = f"{problem.json_path}: {problem.message}" if problem.json_path else problem.message
    column = (problem.column or 1) if problem.line is not None else None
    return Annotation(message, problem.path or None, problem.line, column, title)


def annotation_lines(annotations: Iterable[Annotation]) -> list[str]:
    """``::error file=..,line=..::message`` workflow commands, escaped so a participant's text
    cannot end the command and start another."""
    lines = []
    for a in annotations:
        props = []
        if a.file:
            props.append(f"file={workflow_property(a.file)}")
        if a.line:
            props.append(f"line={int(a.line)}")
        if a.column:
            props.append(f"col={int(a.column)}")
        if a.title:
            props.append(f"title={workflow_property(a.title)}")
        head = f"::{a.level} {','.join(props)}" if props else f"::{a.level}"
        lines.append(f"{head}::{workflow_data(a.message)}")
    return lines
