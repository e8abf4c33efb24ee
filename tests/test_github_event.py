"""Reading the pull-request event from GITHUB_EVENT_PATH and the run context."""

from __future__ import annotations

import json

import pytest

from runner.errors import GitHubError
from runner.github.event import PullRequestEvent, in_github_actions, read_event

HEAD, BASE = "a" * 40, "b" * 40


def payload(**pr_overrides):
    pr = {
        "number": 12,
        "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": "fork/challenges"}},
        "base": {"sha": BASE, "ref": "main"},
        "user": {"login": "alice", "id": 1001},
        "title": "@everyone <img src=x>",
    }
    pr.update(pr_overrides)
    return {
        "action": "synchronize",
        "pull_request": pr,
        "repository": {"full_name": "org/challenges"},
    }


def env_for(tmp_path, event, **extra):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request_target",
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "org/challenges",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "777",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_API_URL": "http://127.0.0.1:1",
        **extra,
    }


def test_reads_trusted_fields(tmp_path):
    env = env_for(tmp_path, payload())
    assert in_github_actions(env)
    assert read_event(env) == PullRequestEvent(
        number=12,
        head_sha=HEAD,
        base_sha=BASE,
        base_ref="main",
        author_login="alice",
        author_id=1001,
        repo="org/challenges",
        run_url="https://github.com/org/challenges/actions/runs/777/attempts/2",
        api_url="http://127.0.0.1:1",
        event_name="pull_request_target",
    )


@pytest.mark.parametrize(
    ("event", "extra", "message"),
    [
        (
            payload(),
            {"GITHUB_EVENT_NAME": "push"},
            "this command needs a pull_request or pull_request_target event, not 'push'",
        ),
        (
            payload(),
            {"GITHUB_REPOSITORY": "evil/repo"},
            "event repository 'org/challenges' is not GITHUB_REPOSITORY 'evil/repo'",
        ),
        (
            payload(head={"sha": "HEAD; rm -rf /"}),
            {},
            "event field head.sha is not a 40-hex commit SHA: 'HEAD; rm -rf /'",
        ),
        (
            payload(user={"login": "alice", "id": True}),
            {},
            "event field 'id' is missing or not a int",
        ),
        (payload(user={"login": "a b", "id": 3}), {}, "event author login is malformed: 'a b'"),
        (
            {"repository": {"full_name": "org/challenges"}},
            {},
            "event field 'pull_request' is missing or not a dict",
        ),
    ],
)
def test_bad_events_are_refused(tmp_path, event, extra, message):
    with pytest.raises(GitHubError) as info:
        read_event(env_for(tmp_path, event, **extra))
    assert info.value.message == message


def test_missing_event_file(tmp_path):
    env = env_for(tmp_path, payload(), GITHUB_EVENT_PATH=str(tmp_path / "nope.json"))
    with pytest.raises(GitHubError, match="cannot read the event file"):
        read_event(env)
    assert not in_github_actions({"GITHUB_ACTIONS": "true"})
