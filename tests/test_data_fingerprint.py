"""``runner.data.fingerprint``: a folder's tree_sha256, not read again while it is unchanged,
and read again after any change to it (content, names, a file added or removed)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hidden_data import make_tree

from runner.data import fingerprint, tree_sha256
from runner.data.fingerprint import folder_sha256
from runner.errors import DataError

SETTLE_S = 0.25  # longer than the RACY_S the tests set, and than any timestamp granularity


@pytest.fixture
def hashed(monkeypatch) -> list[Path]:
    """The folders whose content is really read, with a short racy window and no memory
    left over from other tests."""
    calls: list[Path] = []

    def counting(path: Path) -> str:
        calls.append(path)
        return tree_sha256(path)

    monkeypatch.setattr(fingerprint, "tree_sha256", counting)
    monkeypatch.setattr(fingerprint, "RACY_S", 0.2)
    monkeypatch.setattr(fingerprint, "_memory", {})
    return calls


def settled_tree(root: Path) -> Path:
    make_tree(root)
    time.sleep(SETTLE_S)
    return root


def test_an_unchanged_folder_is_read_once_even_by_a_later_process(tmp_path, hashed):
    folder, cache = settled_tree(tmp_path / "data"), tmp_path / "cache"
    cache.mkdir()
    assert folder_sha256(folder, cache) == tree_sha256(folder)
    assert folder_sha256(folder, cache) == tree_sha256(folder)
    assert hashed == [folder]
    fingerprint._memory.clear()  # as a new command would start
    assert folder_sha256(folder, cache) == tree_sha256(folder)
    assert hashed == [folder]
    assert len(list((cache / fingerprint.MEMO).iterdir())) == 1


@pytest.mark.parametrize(
    "change",
    [
        "same-size rewrite, mtime restored",
        "file added",
        "file removed",
        "file renamed",
        "empty folder added",
    ],
)
def test_any_change_is_read_again(tmp_path, hashed, change):
    folder = settled_tree(tmp_path / "data")
    before = folder_sha256(folder, tmp_path)
    truth = folder / "truth.csv"
    if change.startswith("same-size"):
        stat = truth.stat()
        truth.write_text(truth.read_text().replace("1,0,public", "1,1,public"))
        os.utime(truth, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert truth.stat().st_size == stat.st_size
    elif change == "file added":
        (folder / "inputs" / "more.csv").write_text("id\n")
    elif change == "file removed":
        (folder / "inputs" / "images" / "a.bin").unlink()
    elif change == "file renamed":
        (folder / "inputs" / "test.csv").rename(folder / "inputs" / "tests.csv")
    else:
        (folder / "inputs" / "empty").mkdir()
    after = folder_sha256(folder, tmp_path)
    assert after == tree_sha256(folder) != before
    assert hashed == [folder, folder]


def test_a_folder_changed_just_now_is_not_remembered(tmp_path, hashed, monkeypatch):
    monkeypatch.setattr(fingerprint, "RACY_S", 60.0)
    folder = settled_tree(tmp_path / "data")
    assert folder_sha256(folder, tmp_path) == folder_sha256(folder, tmp_path)
    assert hashed == [folder, folder]
    assert not (tmp_path / fingerprint.MEMO).exists()


def test_a_damaged_memo_is_hashed_again_and_errors_are_tree_sha256s(tmp_path, hashed):
    folder = settled_tree(tmp_path / "data")
    right = folder_sha256(folder, tmp_path)
    fingerprint._memory.clear()
    (memo,) = (tmp_path / fingerprint.MEMO).iterdir()
    memo.write_text("not a hash\n")
    assert folder_sha256(folder, tmp_path) == right
    assert len(hashed) == 2
    (folder / "inputs" / "link").symlink_to(folder / "truth.csv")
    with pytest.raises(DataError, match="is a symbolic link"):
        folder_sha256(folder, tmp_path)


def test_load_repo_reads_a_scoring_program_again_only_when_it_changed(tmp_path, monkeypatch):
    """The challenge fingerprint covers the program folder (a changed program makes records
    stale) without reading it on every load."""
    from runner.importers import import_bundle
    from runner.loader import load_challenge

    examples = Path(__file__).parent / "examples" / "importers" / "codabench-parity"
    (done,) = import_bundle("codabench", examples, tmp_path / "challenges", image="x:1")
    program = done.folder / "scoring_program"
    monkeypatch.setenv("CHALLENGE_RUNNER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fingerprint, "_memory", {})
    monkeypatch.setattr(fingerprint, "RACY_S", 0.2)
    calls: list[Path] = []
    monkeypatch.setattr(fingerprint, "tree_sha256", lambda p: calls.append(p) or tree_sha256(p))
    time.sleep(SETTLE_S)  # the imported files settle
    first = load_challenge(done.folder / "challenge.yaml").sha256
    assert load_challenge(done.folder / "challenge.yaml").sha256 == first
    assert calls == [program]
    (program / "score.py").write_text((program / "score.py").read_text() + "\n# changed\n")
    changed = load_challenge(done.folder / "challenge.yaml").sha256
    assert changed != first and calls == [program, program]
