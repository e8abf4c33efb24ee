"""Fetching submission folders at the head SHA through the tree and blob API."""

from __future__ import annotations

import pytest
from github_server import GitRepo, Pull, ServerState, Symlink, client_for, serve

from runner.github.fetch import (
    FetchLimits,
    fetch_folders,
    manifests_to_evaluate,
    touched_folders,
)
from runner.github.policy import HeadTree, PolicyViolation

MANIFEST = b"challenge: bc\nparticipant: alice\nname: gbm\npredictions: gbm.csv\n"


@pytest.fixture
def api(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit(
        {"submissions/bc/alice/old.yaml": b"name: old\n", "README.md": "x\n"}, branch="main"
    )
    head = repo.commit(
        {
            "submissions/bc/alice/gbm.yaml": MANIFEST,
            "submissions/bc/alice/gbm.csv": b"id,malignant\n1,0.25\n",
            "submissions/bc/alice/code/run.py": b"print('hi')\n",
        }
    )
    state = ServerState(repo)
    state.pulls[3] = Pull(3, head, base)
    with serve(state) as server:
        server.head = head
        yield server


def test_fetch_writes_the_folder_as_in_the_repo(api, tmp_path):
    client = client_for(api)
    files = list(client.pull_files(3))
    folders = touched_folders(files)
    dest = tmp_path / "out"
    written = fetch_folders(client, HeadTree(client, api.head), folders, dest)
    rel = sorted(str(p.relative_to(dest)) for p in written)
    assert rel == [
        "submissions/bc/alice/code/run.py",
        "submissions/bc/alice/gbm.csv",
        "submissions/bc/alice/gbm.yaml",
        "submissions/bc/alice/old.yaml",
    ]
    assert (dest / "submissions/bc/alice/gbm.yaml").read_bytes() == MANIFEST
    assert oct((dest / "submissions/bc/alice/code/run.py").stat().st_mode & 0o777) == "0o644"
    # The changed manifest is evaluated; old.yaml did not change.
    assert manifests_to_evaluate(files, dest) == [dest / "submissions/bc/alice/gbm.yaml"]
    assert not api.calls("GET", r"/contents/")  # blobs by SHA, never a checkout


def test_sizes_are_checked_before_download(api, tmp_path):
    client = client_for(api)
    folders = touched_folders(client.pull_files(3))
    with pytest.raises(PolicyViolation) as info:
        fetch_folders(
            client, HeadTree(client, api.head), folders, tmp_path, FetchLimits(max_file_bytes=15)
        )
    assert [str(v) for v in info.value.violations] == [
        "submissions/bc/alice/gbm.csv: is 20 bytes; the limit is 15",
    ]
    assert not api.calls("GET", r"/git/blobs/")


def test_symlink_anywhere_in_a_fetched_folder_is_refused(api, tmp_path):
    repo = api.state.repo
    head = repo.commit({"submissions/bc/alice/code/link": Symlink("/etc/passwd")}, parent=api.head)
    client = client_for(api)
    folders = touched_folders(client.pull_files(3))
    with pytest.raises(PolicyViolation) as info:
        fetch_folders(client, HeadTree(client, head), folders, tmp_path)
    assert [str(v) for v in info.value.violations] == [
        "submissions/bc/alice/code/link: is a symlink; submissions may only contain regular files"
    ]


def test_changed_data_file_re_evaluates_the_folders_manifests(tmp_path):
    from runner.github.client import ChangedFile

    folder = tmp_path / "submissions/bc/alice"
    folder.mkdir(parents=True)
    for name in ("a.yaml", "b.yml", "notes.txt"):
        (folder / name).write_text("x")
    files = [ChangedFile("submissions/bc/alice/a.csv", "modified")]
    assert manifests_to_evaluate(files, tmp_path) == [folder / "a.yaml", folder / "b.yml"]


def test_tree_entries_with_unsafe_names_are_refused_not_written():
    """A crafted tree (GitHub's fsck normally refuses it) must not steer writes out of dest."""
    from types import SimpleNamespace

    from runner.github.client import TreeEntry
    from runner.github.fetch import list_folder
    from runner.github.policy import Folder

    blob = TreeEntry("x", "100644", "blob", "0" * 40, 3)
    tree = SimpleNamespace(
        entries=lambda d: {"..": blob, "ok.csv": blob} if d == "submissions/bc/alice" else {}
    )
    with pytest.raises(PolicyViolation) as caught:
        list_folder(tree, Folder("bc", "alice"))
    assert [(v.path, v.message) for v in caught.value.violations] == [
        ("submissions/bc/alice/..", "has a file name that is not allowed")
    ]
