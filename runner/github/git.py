"""Plain ``git`` subprocesses for the record step, and what their failures mean.

``LC_ALL=C`` so the messages we classify are git's English ones; ``GIT_TERMINAL_PROMPT=0``
so a missing credential fails instead of waiting for a terminal that a CI job does not have.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from runner.errors import RecordError

BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
GIT_ENV = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}

# What a failed fetch or push means (``classify``).
RETRY, REFUSED, AUTH, MISSING, UNKNOWN = "retry", "refused", "auth", "missing", "unknown"
_MOVED = (
    "cannot lock ref",
    "failed to lock",
    "failed to update ref",
    "incorrect old value",
    "stale info",
)
# The remote refused the push by a rule: a pre-receive hook (branch protection, GH006), a
# ruleset (GH013), receive.deny* settings. Retrying cannot help.
_DECLINED = ("declined", "denied", "deny", "prohibited", "not allowed", "checked out")
# The remote failed while storing a push, not a rule refusing it: two concurrent pushes of an
# identical pack collide in a bare repository ("…pack-X.keep differ in contents"), GitHub
# answers a busy moment with "Internal Server Error". The next attempt fetches and succeeds.
_TRANSIENT = (
    "unable to migrate objects to permanent storage",
    "internal server error",
)
_AUTH = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "returned error: 401",
    "returned error: 403",
    "permission to",
    "invalid username or password",
    "permission denied",
)
_MISSING = (
    "does not appear to be a git repository",
    "repository not found",
    "couldn't find remote ref",
    "returned error: 404",
)
_NETWORK = (
    "returned error: 5",
    "could not resolve host",
    "failed to connect",
    "couldn't connect",
    "connection timed out",
    "connection reset",
    "operation timed out",
    "early eof",
    "rpc failed",
    "hung up unexpectedly",
    "ssl",
    "tls",
)


def redact(text: str) -> str:
    """Hide credentials in URLs (the remote carries the job's token)."""
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", text)


def classify(output: str, *, pushed: bool) -> str:
    """What a failed fetch or push means. ``output``: git's stdout and stderr (LC_ALL=C);
    for a push, ``--porcelain`` status lines start with ``!`` and a tab."""
    for line in output.splitlines():
        if pushed and line.startswith("!\t"):
            summary = line.split("\t")[-1]
            if summary.startswith("[rejected]"):  # not a fast-forward: the branch moved
                return RETRY
            if any(m in summary for m in _MOVED):  # a concurrent push held the ref's lock
                return RETRY
            low = summary.lower()
            if any(m in low for m in _TRANSIENT):
                return RETRY
            if any(m in low for m in _DECLINED):  # a hook or a rule: GH006, GH013
                return REFUSED
            return UNKNOWN  # [remote rejected] for a reason we do not know: a few tries
    low = output.lower()
    for kind, marks in ((AUTH, _AUTH), (MISSING, _MISSING), (RETRY, _NETWORK)):
        if any(m in low for m in marks):
            return kind
    return UNKNOWN


def environment(extra: Mapping[str, str] = {}) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, **extra}


def run(
    repo: Path, *args: str, stdin: str | None = None, env: Mapping[str, str] = {}
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment(env),
        check=False,
    )


def out(repo: Path, *args: str, stdin: str | None = None, env: Mapping[str, str] = {}) -> str:
    """stdout of a local git command that must succeed (a failure here is a bug or a broken
    checkout, not the remote's answer)."""
    done = run(repo, *args, stdin=stdin, env=env)
    if done.returncode != 0:
        raise RecordError(
            f"`git {args[0]}` failed in {repo}: {redact(done.stderr.strip())}; "
            "the record job needs a git checkout of the repository"
        )
    return done.stdout


def identity(repo: Path) -> dict[str, str]:
    """Commit as the configured user, or as the Actions bot when none is configured."""
    if run(repo, "config", "user.email").returncode == 0:
        return {}
    return {
        "GIT_AUTHOR_NAME": BOT_NAME,
        "GIT_AUTHOR_EMAIL": BOT_EMAIL,
        "GIT_COMMITTER_NAME": BOT_NAME,
        "GIT_COMMITTER_EMAIL": BOT_EMAIL,
    }
