"""The PyGithub wrapper: retries, error translation, file contents by ref."""

from __future__ import annotations

import pytest
from github_server import GitRepo, Pull, ServerState, client_for, serve

from runner.errors import GitHubError


@pytest.fixture
def api(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit({"teams.yaml": "teams: {}\n"}, branch="main")
    head = repo.commit({"teams.yaml": "teams: {owls: x}\n", "submissions/bc/a/x.yaml": "x\n"})
    state = ServerState(repo)
    state.pulls[1] = Pull(1, head, base)
    with serve(state) as server:
        server.base, server.head = base, head
        yield server


def test_get_is_retried_on_server_errors(api):
    api.state.fail_next[:] = [502, 503]
    files = list(client_for(api).pull_files(1))
    assert [f.filename for f in files] == ["submissions/bc/a/x.yaml", "teams.yaml"]
    assert len(api.calls("GET", r"/pulls/1/files$")) == 3


def test_errors_become_github_errors(api):
    api.state.fail_next[:] = [500] * 10
    with pytest.raises(GitHubError, match=r"GitHub API list files of PR #1 failed after retries"):
        list(client_for(api).pull_files(1))
    with pytest.raises(GitHubError, match=r"HTTP 401 Bad credentials"):
        list(client_for(api, token="wrong").pull_files(1))


def test_create_comment_is_not_retried(api):
    client = client_for(api)
    with pytest.raises(GitHubError, match="HTTP 404"):
        client.create_comment(99, "hello")
    assert len(api.calls("POST", r"/issues/99/comments$")) == 1


def test_file_at_reads_by_ref(api):
    client = client_for(api)
    assert client.file_at("teams.yaml", api.base) == b"teams: {}\n"
    assert client.file_at("teams.yaml", api.head) == b"teams: {owls: x}\n"
    assert client.file_at("missing.yaml", api.base) is None
    assert [c.query["ref"] for c in api.calls("GET", r"/contents/teams.yaml$")] == [
        api.base,
        api.head,
    ]


def test_a_truncated_tree_is_refused_not_taken_as_complete(api):
    client = client_for(api)
    assert set(client.tree(api.head)) == {"submissions", "teams.yaml"}
    api.state.truncate_trees = True
    with pytest.raises(GitHubError, match=r"the tree \w+ is too large to list through the API"):
        client.tree(api.head)
