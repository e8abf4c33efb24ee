"""A thin wrapper over PyGithub: the calls the runner makes, typed results, retries.

Every PyGithub failure becomes a ``GitHubError`` naming the call, so the CLI reports it as
the platform's problem (status ``error``) instead of crashing. Idempotent requests (GET,
PATCH, DELETE) are retried on 5xx and rate limits with backoff; POST is not, so a comment is
never created twice by a retry.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import github
import requests
from github import Auth, Github, GithubException, GithubRetry

from runner.errors import GitHubError

PER_PAGE = 100  # GitHub's maximum; fewer round trips for long comment threads


@dataclass(frozen=True)
class ChangedFile:
    """One entry of a pull request's file list."""

    filename: str
    status: str  # added | modified | removed | renamed | copied | changed | unchanged
    previous_filename: str | None = None


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a git tree: ``mode`` is git's (100644, 100755, 120000, 160000, 040000)."""

    name: str
    mode: str
    type: str  # blob | tree | commit
    sha: str
    size: int | None = None


@dataclass(frozen=True)
class Comment:
    id: int
    login: str
    body: str


class GitHubClient:
    """The runner's view of one repository through the REST API."""

    def __init__(
        self,
        api_url: str,
        token: str,
        repo: str,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        pace: bool = True,
    ):
        """``pace`` keeps PyGithub's spacing between requests (0.25 s) and writes (1 s), which
        GitHub asks of integrations to stay clear of secondary rate limits."""
        retry = GithubRetry(
            total=retries,
            backoff_factor=backoff,
            allowed_methods=frozenset({"GET", "PATCH", "DELETE"}),
        )
        self.gh = Github(
            base_url=api_url.rstrip("/"),
            auth=Auth.Token(token),
            retry=retry,
            per_page=PER_PAGE,
            timeout=30,
            lazy=True,
            seconds_between_requests=0.25 if pace else None,
            seconds_between_writes=1.0 if pace else None,
        )
        self.repo_name = repo
        self.repo = self.gh.get_repo(repo)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GithubException as err:
            message = err.data.get("message") if isinstance(err.data, dict) else err.data
            raise GitHubError(f"GitHub API {what} failed: HTTP {err.status} {message}") from err
        except github.BadAttributeException as err:  # malformed answer from the API
            raise GitHubError(f"GitHub API {what} answered malformed data: {err}") from err
        except requests.exceptions.RetryError as err:
            raise GitHubError(f"GitHub API {what} failed after retries: {err}") from err
        except OSError as err:  # connection refused, reset, timeout
            raise GitHubError(f"GitHub API {what} unreachable: {err}") from err

    # ---- pull requests and git data
    def pull_files(self, number: int) -> Iterator[ChangedFile]:
        """Every file the pull request changes, across all pages."""

        def fetch() -> list[ChangedFile]:
            pull = self.repo.get_pull(number)
            return [
                ChangedFile(f.filename, f.status, f.previous_filename) for f in pull.get_files()
            ]

        return iter(self._call(f"list files of PR #{number}", fetch))

    def tree(self, sha: str) -> dict[str, TreeEntry]:
        """The entries of one tree (not recursive), by name."""

        def fetch() -> dict[str, TreeEntry]:
            tree = self.repo.get_git_tree(sha)
            if tree.raw_data.get("truncated"):
                # A partial listing would make files look absent: refuse rather than guess.
                raise GitHubError(f"the tree {sha} is too large to list through the API")
            return {e.path: TreeEntry(e.path, e.mode, e.type, e.sha, e.size) for e in tree.tree}

        return self._call(f"tree {sha}", fetch)

    def blob(self, sha: str) -> bytes:
        """A blob's bytes (check its size in the tree entry first: this reads it all)."""

        def fetch() -> bytes:
            blob = self.repo.get_git_blob(sha)
            return (
                base64.b64decode(blob.content)
                if blob.encoding == "base64"
                else blob.content.encode()
            )

        return self._call(f"blob {sha}", fetch)

    def file_at(self, path: str, ref: str) -> bytes | None:
        """A regular file's bytes at ``ref``, or None when it does not exist there."""

        def fetch() -> bytes | None:
            try:
                content = self.repo.get_contents(path, ref=ref)
            except GithubException as err:
                if err.status == 404:
                    return None
                raise
            if isinstance(content, list) or content.type != "file":
                raise GitHubError(f"{path} at {ref} is not a regular file")
            return content.decoded_content

        return self._call(f"contents of {path} at {ref}", fetch)

    def compare(self, base: str, head: str) -> str:
        """Where ``head`` stands relative to ``base``: ahead, behind, identical or diverged."""
        return self._call(f"compare {base}...{head}", lambda: self.repo.compare(base, head).status)

    def commit_date(self, sha: str) -> datetime:
        """The committer date of a commit."""
        return self._call(f"commit {sha}", lambda: self.repo.get_commit(sha).commit.committer.date)

    # ---- issues: comments and labels
    def comments(self, number: int) -> Iterator[Comment]:
        """Every comment on the pull request's conversation, oldest first, across all pages."""

        def fetch() -> list[Comment]:
            issue = self.repo.get_issue(number)
            return [Comment(c.id, c.user.login, c.body or "") for c in issue.get_comments()]

        return iter(self._call(f"list comments of PR #{number}", fetch))

    def create_comment(self, number: int, body: str) -> int:
        def create() -> int:
            return self.repo.get_issue(number).create_comment(body).id

        return self._call(f"create a comment on PR #{number}", create)

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        def edit() -> None:
            self.repo.get_issue(number).get_comment(comment_id).edit(body)

        self._call(f"edit comment {comment_id}", edit)

    def set_labels(self, number: int, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
        """Add ``add`` and remove those of ``remove`` the PR has; other labels are left alone."""

        def apply() -> None:
            issue = self.repo.get_issue(number)
            have = {label.name for label in issue.labels}
            for name in remove:
                if name in have:
                    issue.remove_from_labels(name)
            if missing := [name for name in add if name not in have]:
                issue.add_to_labels(*missing)

        self._call(f"set labels of PR #{number}", apply)

    def set_status(
        self, sha: str, state: str, description: str, context: str, target_url: str | None
    ) -> None:
        """A commit status; ``description`` is cut to GitHub's 140 characters."""

        def create() -> None:
            extra = {"target_url": target_url} if target_url else {}
            self.repo.get_commit(sha).create_status(
                state=state, description=description[:140], context=context, **extra
            )

        self._call(f"set status on {sha}", create)
