"""What a submission pull request may change.

Only files under ``submissions/<challenge>/<folder>/`` where ``folder`` is the author's login
or a team they belong to (``identity.may_write``), of existing challenges. Deletions and
renames may only touch the author's own folders. A file that is a symlink (git mode 120000)
or a submodule (160000) at the head SHA is refused: the modes come from the git tree at the
head SHA through the API, never from a checkout of the pull request.

Every violation is reported, not only the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from runner.errors import ConfigError
from runner.github.client import ChangedFile, GitHubClient, TreeEntry
from runner.github.identity import Author, may_write
from runner.models import Team

MAX_FILES = 300  # per pull request; GitHub's file list stops at 3,000 anyway
MAX_DEPTH = 8  # path segments below submissions/<challenge>/<folder>/
SUBMISSION_PATH = re.compile(
    r"^submissions/(?P<challenge>[a-z0-9][a-z0-9-]{0,62})/(?P<folder>[A-Za-z0-9][A-Za-z0-9_.-]{0,99})/(?P<rest>.+)$"
)
_SEGMENT = re.compile(r"^[^\x00-\x1f\x7f/\\]{1,255}$")
MODE_NAMES = {"120000": "a symlink", "160000": "a submodule"}


@dataclass(frozen=True)
class Violation:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PolicyViolation(ConfigError):
    """The pull request changes files it may not; ``.violations`` lists every one."""

    def __init__(self, violations: list[Violation]):
        lines = "\n".join(f"- {v}" for v in violations)
        super().__init__(f"this pull request changes files it may not:\n{lines}")
        self.violations = tuple(violations)


@dataclass(frozen=True)
class Folder:
    """A submission folder the pull request touches."""

    challenge: str
    folder: str

    @property
    def path(self) -> str:
        return f"submissions/{self.challenge}/{self.folder}"


def split_path(path: str) -> Folder | None:
    """The submission folder of ``path``, or None when it is not a well-formed submission path."""
    match = SUBMISSION_PATH.match(path)
    if match is None:
        return None
    segments = match["rest"].split("/")
    if len(segments) > MAX_DEPTH or not all(
        _SEGMENT.match(s) and s not in (".", "..") for s in segments
    ):
        return None
    return Folder(match["challenge"], match["folder"])


def path_violations(
    files: Iterable[ChangedFile],
    author: Author,
    teams: Mapping[str, Team],
    known_ids: Mapping[str, int],
    challenges: Iterable[str],
) -> list[Violation]:
    """Pure check of the changed paths (modes are ``mode_violations``'s job)."""
    files = list(files)
    known = set(challenges)
    if len(files) > MAX_FILES:
        return [
            Violation(
                "(pull request)", f"changes {len(files)} files; at most {MAX_FILES} are allowed"
            )
        ]
    out = []
    for change in files:
        paths = [change.filename]
        if change.status == "renamed" and change.previous_filename:
            paths.append(change.previous_filename)
        for path in paths:
            problem = _path_problem(path, change.status, author, teams, known_ids, known)
            if problem:
                out.append(Violation(path, problem))
    return out


def _path_problem(
    path: str,
    status: str,
    author: Author,
    teams: Mapping[str, Team],
    known_ids: Mapping[str, int],
    challenges: set[str],
) -> str | None:
    folder = split_path(path)
    if folder is None:
        return (
            f"a submission pull request may only {_verb(status)} files under "
            f"submissions/<challenge>/{author.login}/ (or your team's folder)"
        )
    if folder.challenge not in challenges:
        names = ", ".join(sorted(challenges)) or "none"
        return f"there is no challenge '{folder.challenge}' (known: {names})"
    if not may_write(folder.folder, author, teams, known_ids):
        return (
            f"'{author.login}' may not {_verb(status)} files in {folder.path}/: use "
            f"submissions/{folder.challenge}/{author.login}/ or a team folder you are a member of"
        )
    return None


def _verb(status: str) -> str:
    return {"removed": "delete", "renamed": "rename"}.get(status, "add or change")


class HeadTree:
    """Looks up git tree entries at one commit through the API, one tree per directory."""

    def __init__(self, client: GitHubClient, commit_sha: str):
        self.client = client
        self.trees: dict[str, dict[str, TreeEntry]] = {"": client.tree(commit_sha)}

    def entries(self, directory: str) -> dict[str, TreeEntry] | None:
        """The entries of ``directory`` ('' for the root), or None if it is not a directory."""
        if directory in self.trees:
            return self.trees[directory]
        parent, _, name = directory.rpartition("/")
        above = self.entries(parent)
        entry = above.get(name) if above is not None else None
        if entry is None or entry.type != "tree":
            return None
        self.trees[directory] = self.client.tree(entry.sha)
        return self.trees[directory]

    def entry(self, path: str) -> TreeEntry | None:
        directory, _, name = path.rpartition("/")
        entries = self.entries(directory)
        return entries.get(name) if entries is not None else None


def mode_violations(tree: HeadTree, files: Iterable[ChangedFile]) -> list[Violation]:
    """Symlinks and submodules among the added or changed files, by git mode at the head."""
    out = []
    for change in files:
        if change.status == "removed":
            continue
        entry = tree.entry(change.filename)
        if entry is not None and entry.mode in MODE_NAMES:
            out.append(
                Violation(
                    change.filename,
                    f"is {MODE_NAMES[entry.mode]} (git mode {entry.mode}); submissions may "
                    "only contain regular files",
                )
            )
    return out


def enforce(
    client: GitHubClient,
    number: int,
    head_sha: str,
    author: Author,
    teams: Mapping[str, Team],
    known_ids: Mapping[str, int],
    challenges: Iterable[str],
) -> tuple[list[ChangedFile], HeadTree]:
    """List the PR's files, check paths and modes; raise ``PolicyViolation`` with them all."""
    files = list(client.pull_files(number))
    violations = path_violations(files, author, teams, known_ids, challenges)
    tree = HeadTree(client, head_sha)
    violations += mode_violations(tree, files)
    if violations:
        raise PolicyViolation(violations)
    return files, tree
