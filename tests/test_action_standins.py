"""The offline stand-ins for upload-artifact v4 and download-artifact v4
(tests/actions/artifacts.py) behave as the pinned versions document, so the act tests catch
what the real actions would: hidden files, 409 on a repeated name, roots, patterns, merge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "actions" / "artifacts.py"


@pytest.fixture
def job(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()

    def run(command: str, **inputs: str) -> subprocess.CompletedProcess:
        env = {
            "PATH": os.environ["PATH"],
            "ACT_ARTIFACTS": str(tmp_path / "store"),
            "GITHUB_RUN_ID": "42",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_REPOSITORY": "org/challenges",
            **{f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()},
        }
        return subprocess.run(
            [sys.executable, str(SCRIPT), command], env=env, capture_output=True, text=True
        )

    run.workspace = workspace
    run.store = tmp_path / "store" / "42"
    return run


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_hidden_files_are_left_out_unless_asked_for(job):
    write(job.workspace, {"out/a.txt": "a", "out/.env": "s", "out/.git/x": "g", "out/m/.rc": "r"})
    assert job("upload", name="plain", path="out/").returncode == 0
    assert listing(job.store / "plain") == ["a.txt"]
    done = job("upload", name="all", path="out/", include_hidden_files="true")
    assert done.returncode == 0
    assert listing(job.store / "all") == [".env", ".git/x", "a.txt", "m/.rc"]


def test_a_repeated_name_is_a_409_unless_overwrite(job):
    write(job.workspace, {"f.txt": "1"})
    assert job("upload", name="x", path="f.txt").returncode == 0
    again = job("upload", name="x", path="f.txt")
    assert again.returncode == 1
    assert "(409) Conflict: an artifact with this name already exists on the workflow run" in (
        again.stdout
    )
    (job.workspace / "f.txt").write_text("2")
    assert job("upload", name="x", path="f.txt", overwrite="true").returncode == 0
    assert (job.store / "x" / "f.txt").read_text() == "2"


def test_roots_one_file_its_folder_several_paths_their_common_parent(job):
    write(job.workspace, {"i/ingest.json": "{}", "i/p.age": "x", "s/in.age": "y"})
    assert job("upload", name="one", path="s/in.age").returncode == 0
    assert listing(job.store / "one") == ["in.age"]
    assert job("upload", name="two", path="i/ingest.json\ni/p.age").returncode == 0
    assert listing(job.store / "two") == ["ingest.json", "p.age"]


def test_nothing_found_warns_or_fails_as_asked(job):
    warned = job("upload", name="n", path="missing/")
    assert warned.returncode == 0 and "::warning::No files were found" in warned.stdout
    failed = job("upload", name="n", path="missing/", if_no_files_found="error")
    assert failed.returncode == 1 and "::error::No files were found" in failed.stdout


def test_download_by_name_by_pattern_and_merged(job):
    write(job.workspace, {"r1/a.json": "1", "r2/b.json": "2", "p/plan.json": "p"})
    for name, path in (("records-1", "r1/"), ("records-2", "r2/"), ("plan", "p/")):
        assert job("upload", name=name, path=path).returncode == 0
    assert job("download", name="plan", path="got-plan").returncode == 0
    assert listing(job.workspace / "got-plan") == ["plan.json"]
    assert job("download", pattern="records-*", path="sep").returncode == 0
    assert listing(job.workspace / "sep") == ["records-1/a.json", "records-2/b.json"]
    merged = job("download", pattern="records-*", merge_multiple="true", path="merged")
    assert merged.returncode == 0
    assert listing(job.workspace / "merged") == ["a.json", "b.json"]
    missing = job("download", name="nope", path="x")
    assert missing.returncode == 1
    assert "Unable to download artifact(s): Artifact not found for name: nope" in missing.stdout
