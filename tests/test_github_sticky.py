"""Sticky comment, status, labels, summary and annotations against the loopback API."""

from __future__ import annotations

import pytest
from github_server import BOT, GitRepo, Pull, ServerState, client_for, serve

from runner.github.comment import marker
from runner.github.sticky import (
    Annotation,
    annotation_lines,
    find_sticky,
    parse_marker,
    post_sticky,
    set_commit_status,
    set_status_label,
    write_step_summary,
)

MALLORY = {"login": "mallory", "id": 666, "type": "User"}


@pytest.fixture
def api(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit({"README.md": "base\n"}, branch="main")
    first = repo.commit({"submissions/bc/alice/a.yaml": "name: a\n"})
    second = repo.commit({"submissions/bc/alice/a.yaml": "name: a2\n"})
    state = ServerState(repo)
    state.tokens["mallory-token"] = MALLORY
    state.pulls[7] = Pull(7, head_sha=second, base_sha=base)
    with serve(state) as server:
        server.shas = {"base": base, "first": first, "second": second}
        yield server


def body(challenge: str, sha: str, text: str) -> str:
    return f"{marker(challenge, sha)}\n{text}\n"


def test_marker_round_trip_and_rejects_other_first_lines():
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert parse_marker(body("breast-cancer", sha, "x")) == ("breast-cancer", sha)
    assert parse_marker("hello\n" + marker("breast-cancer", sha)) is None
    assert parse_marker("<!-- challenge-runner challenge=Bad sha=" + sha + " -->") is None


def test_second_push_updates_in_place(api):
    client, s = client_for(api), api.shas
    first = post_sticky(client, 7, "bc", s["first"], body("bc", s["first"], "one"))
    second = post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "two"))
    assert (first.action, second.action) == ("created", "updated")
    assert second.comment_id == first.comment_id and second.previous_sha == s["first"]
    comments = api.state.comments_on(7)
    assert len(comments) == 1
    assert comments[0]["body"] == body("bc", s["second"], "two")
    assert len(api.calls("POST", r"/issues/7/comments$")) == 1
    assert len(api.calls("PATCH", r"/issues/comments/\d+$")) == 1


def test_one_comment_per_challenge(api):
    client, s = client_for(api), api.shas
    post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "bc"))
    post_sticky(client, 7, "diabetes", s["second"], body("diabetes", s["second"], "db"))
    post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "bc again"))
    bodies = sorted(c["body"] for c in api.state.comments_on(7))
    expected = [body("bc", s["second"], "bc again"), body("diabetes", s["second"], "db")]
    assert bodies == sorted(expected)


def test_stale_run_does_not_overwrite_newer(api):
    client, s = client_for(api), api.shas
    post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "newer"))
    outcome = post_sticky(client, 7, "bc", s["first"], body("bc", s["first"], "older"))
    assert outcome.action == "skipped-stale" and outcome.previous_sha == s["second"]
    assert api.state.comments_on(7)[0]["body"] == body("bc", s["second"], "newer")
    assert api.calls("GET", rf"/compare/{s['second']}\.\.\.{s['first']}$")
    assert not api.calls("PATCH")


def test_diverged_history_falls_back_to_commit_dates(api):
    client, s = client_for(api), api.shas
    # A force-push: a new commit on the base, not a descendant of "second", made later.
    change = {"submissions/bc/alice/a.yaml": "name: r\n"}
    rewritten = api.state.repo.commit(change, parent=s["base"])
    post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "old line"))
    outcome = post_sticky(client, 7, "bc", rewritten, body("bc", rewritten, "rewritten"))
    assert outcome.action == "updated"
    back = post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "late run"))
    assert back.action == "skipped-stale"
    assert api.state.comments_on(7)[0]["body"] == body("bc", rewritten, "rewritten")


def test_marker_on_page_three_is_found(api):
    client, s = client_for(api), api.shas
    for i in range(230):
        api.state.add_comment(7, f"chatter {i}", MALLORY if i % 2 else BOT)
    ours = api.state.add_comment(7, body("bc", s["first"], "old"), BOT)
    outcome = post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "new"))
    assert outcome.action == "updated" and outcome.comment_id == ours["id"]
    pages = [c.query.get("page", "1") for c in api.calls("GET", r"/issues/7/comments$")]
    assert pages == ["1", "2", "3"]
    assert all(c.query.get("per_page") == "100" for c in api.calls("GET", r"/issues/7/comments$"))
    assert len(api.state.comments_on(7)) == 231


def test_foreign_comment_with_our_marker_is_ignored(api):
    client, s = client_for(api), api.shas
    forged = api.state.add_comment(7, body("bc", "f" * 40, "forged by mallory"), MALLORY)
    assert find_sticky(client, 7, "bc", BOT["login"]) is None
    outcome = post_sticky(client, 7, "bc", s["second"], body("bc", s["second"], "real"))
    assert outcome.action == "created" and outcome.comment_id != forged["id"]
    assert forged["body"] == body("bc", "f" * 40, "forged by mallory")
    assert [c["user"]["login"] for c in api.state.comments_on(7)] == ["mallory", BOT["login"]]


def test_status_and_labels(api):
    client, s = client_for(api), api.shas
    api.state.labels[7] = ["evaluating", "keep-me"]
    set_status_label(client, 7, "scored")
    assert api.state.labels[7] == ["keep-me", "evaluated"]
    set_status_label(client, 7, "error")
    assert api.state.labels[7] == ["keep-me", "error"]
    set_commit_status(
        client, s["second"], "timeout", "x" * 300, "bc", "https://example.invalid/run/1"
    )
    status = api.state.statuses[-1]
    assert status["state"] == "failure" and status["context"] == "challenge-runner/bc"
    assert (
        len(status["description"]) == 140
        and status["target_url"] == "https://example.invalid/run/1"
    )


def test_step_summary_appends(tmp_path):
    path = tmp_path / "summary.md"
    assert write_step_summary("# one", {"GITHUB_STEP_SUMMARY": str(path)})
    assert write_step_summary("two\n", {"GITHUB_STEP_SUMMARY": str(path)})
    assert path.read_text() == "# one\n\ntwo\n\n"
    assert not write_step_summary("x", {})


def test_annotations_cannot_inject_workflow_commands():
    lines = annotation_lines(
        [
            Annotation("bad value\n::add-mask::secret 100%", file="submissions/a,b:c.yaml", line=3),
            Annotation("plain"),
        ]
    )
    assert lines == [
        "::error file=submissions/a%2Cb%3Ac.yaml,line=3::bad value ::add-mask::secret 100%25",
        "::error::plain",
    ]
