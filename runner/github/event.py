"""The pull request a workflow run is about, from trusted event data only.

GitHub writes the webhook payload to ``GITHUB_EVENT_PATH`` and the run's context to
``GITHUB_*`` variables; neither can be changed by the pull request's files. The PR number,
SHAs and the author's login and numeric id come from there, never from an artifact or a file
in the PR (a manifest's ``participant:`` is a claim that ``identity`` checks against this).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import GitHubError

PR_EVENTS = ("pull_request", "pull_request_target")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")


@dataclass(frozen=True)
class PullRequestEvent:
    """What a run knows about its pull request; built by ``read_event``."""

    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    author_login: str
    author_id: int
    repo: str  # owner/name of the base repository
    run_url: str | None = None
    api_url: str = "https://api.github.com"
    event_name: str = "pull_request"


def in_github_actions(env: Mapping[str, str] | None = None) -> bool:
    """True inside a GitHub Actions run that has an event to read."""
    env = os.environ if env is None else env
    return env.get("GITHUB_ACTIONS") == "true" and bool(env.get("GITHUB_EVENT_PATH"))


def run_url(env: Mapping[str, str]) -> str | None:
    """The link to this workflow run (and attempt), or None outside Actions."""
    server, repo, run = (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    )
    if not (server and repo and run and run.isdigit()):
        return None
    attempt = env.get("GITHUB_RUN_ATTEMPT", "")
    suffix = f"/attempts/{attempt}" if attempt.isdigit() and attempt != "1" else ""
    return f"{server.rstrip('/')}/{repo}/actions/runs/{run}{suffix}"


def read_event(env: Mapping[str, str] | None = None) -> PullRequestEvent:
    """Read the pull-request event of this run; GitHubError says what is missing or wrong."""
    env = os.environ if env is None else env
    name = env.get("GITHUB_EVENT_NAME", "")
    if name not in PR_EVENTS:
        raise GitHubError(
            f"this command needs a pull_request or pull_request_target event, not {name!r}"
        )
    payload = _load_payload(env.get("GITHUB_EVENT_PATH", ""))
    pr = _field(payload, "pull_request", dict)
    repo = _field(_field(payload, "repository", dict), "full_name", str)
    if env.get("GITHUB_REPOSITORY") and env["GITHUB_REPOSITORY"] != repo:
        raise GitHubError(
            f"event repository {repo!r} is not GITHUB_REPOSITORY {env['GITHUB_REPOSITORY']!r}"
        )
    user = _field(pr, "user", dict)
    event = PullRequestEvent(
        number=_field(pr, "number", int),
        head_sha=_field(_field(pr, "head", dict), "sha", str),
        base_sha=_field(_field(pr, "base", dict), "sha", str),
        base_ref=_field(_field(pr, "base", dict), "ref", str),
        author_login=_field(user, "login", str),
        author_id=_field(user, "id", int),
        repo=repo,
        run_url=run_url(env),
        api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
        event_name=name,
    )
    _check_shapes(event)
    return event


def _load_payload(path: str) -> dict:
    if not path:
        raise GitHubError(
            "GITHUB_EVENT_PATH is not set: run this inside GitHub Actions or pass the event file"
        )
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GitHubError(f"cannot read the event file: {err}", path=path) from err
    if not isinstance(payload, dict):
        raise GitHubError("the event file does not hold a JSON object", path=path)
    return payload


def _field(obj: dict, key: str, kind: type) -> Any:
    value = obj.get(key)
    # bool is an int subclass: a payload with "id": true is malformed, not user 1.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise GitHubError(f"event field {key!r} is missing or not a {kind.__name__}")
    return value


def _check_shapes(event: PullRequestEvent) -> None:
    for label, sha in (("head.sha", event.head_sha), ("base.sha", event.base_sha)):
        if not _SHA.match(sha):
            raise GitHubError(f"event field {label} is not a 40-hex commit SHA: {sha[:60]!r}")
    if not _REPO.match(event.repo):
        raise GitHubError(f"event repository name is malformed: {event.repo[:100]!r}")
    if not _LOGIN.match(event.author_login):
        raise GitHubError(f"event author login is malformed: {event.author_login[:60]!r}")
    if event.number <= 0 or event.author_id <= 0:
        raise GitHubError("event pull request number and author id must be positive")
