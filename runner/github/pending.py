"""Pending records: a record job publishes its records on a ref of its own before it lands
them, so whichever job lands next folds in every job's records (``runner.github.push``).

Why: landing is a compare-and-swap on one branch, so jobs that each land only their own
records land one commit per fetch–push window, and a burst queues behind it: 50 at once on
this project's loaded 2-core machine, each landing its own, made 877 push attempts and 18
jobs ran past a 120 s deadline; folding, 179 attempts (at most 4 per job), 4–5 commits, no
loss (bench/bench_record_load.py). A job's own ref never contends with another's, and one
landing empties the queue of everything it folded.

Refs: ``refs/records/pending/<branch>/<evaluation id>``, each a parentless commit whose tree
holds the job's record files at their paths in the store. The job deletes its ref when it
ends; a job that lands others' records deletes theirs. A ref left by a job that died is
folded by the next job that lands (its records are valid records; nothing is lost).
Nothing but a record job writes these refs (the same write token as the branch).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from runner.github import git
from runner.github.record import Candidate
from runner.models import Result

PENDING = "refs/records/pending"
LOCAL = "refs/challenge-runner"  # where a fetch puts the branch and the pending refs
_RECORD_PATH = re.compile(r"[^/]+/[^/]+/[^/]+/[^/]+\.json")


def pending_ref(branch: str, candidates: Sequence[Candidate]) -> str:
    return f"{PENDING}/{branch}/{min(c.result.evaluation_id for c in candidates)}"


def refspecs(branch: str) -> list[str]:
    return [f"+refs/heads/{branch}:{LOCAL}/base", f"+{PENDING}/{branch}/*:{LOCAL}/pending/*"]


def local_refs(repo: Path) -> tuple[str, dict[str, str]]:
    """(the fetched branch's commit, remote pending ref -> its commit) after a fetch."""
    listing = git.out(repo, "for-each-ref", "--format=%(objectname) %(refname)", f"{LOCAL}/")
    head, pending = "", {}
    for line in listing.splitlines():
        sha, ref = line.split(" ", 1)
        if ref == f"{LOCAL}/base":
            head = sha
        elif ref.startswith(f"{LOCAL}/pending/"):
            pending[ref.removeprefix(f"{LOCAL}/pending/")] = sha
    return head, pending


def build_commit(repo: Path, candidates: Sequence[Candidate], who: Mapping[str, str]) -> str:
    """A parentless commit holding just the candidates' files."""
    with tempfile.TemporaryDirectory(prefix="cr-pending-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.out(repo, "read-tree", "--empty", env=index)
        entries = "".join(f"100644 {c.blob}\t{c.path}\0" for c in candidates)
        git.out(repo, "update-index", "-z", "--index-info", stdin=entries, env=index)
        tree = git.out(repo, "write-tree", env=index).strip()
    return git.out(repo, "commit-tree", tree, "-m", "Pending records", env=who).strip()


def delete(repo: Path, remote: str, refs: Iterable[str]) -> None:
    """Best effort: a ref another job deleted first is already gone, which is the point."""
    refs = sorted(refs)
    if refs:
        git.run(repo, "push", "--porcelain", "--quiet", remote, *(f":{r}" for r in refs))


class Files:
    """path -> blob id of each pending commit's record files, listed once per commit."""

    def __init__(self, repo: Path, prefix: str):
        self.repo, self.prefix = repo, prefix
        self.listed: dict[str, dict[str, str]] = {}

    def of(self, commits: Iterable[str]) -> dict[str, dict[str, str]]:
        commits = list(commits)
        new = [c for c in commits if c not in self.listed]
        if new:
            self.listed.update(self._list(new))
        return {c: self.listed.get(c, {}) for c in commits}

    def _list(self, commits: list[str]) -> dict[str, dict[str, str]]:
        stdin = "".join(f"{c}\n" for c in commits)
        tokens = git.out(self.repo, "diff-tree", "--stdin", "-r", "--root", "-z", stdin=stdin)
        found: dict[str, dict[str, str]] = {c: {} for c in commits}
        current, items = "", iter(tokens.split("\0"))
        for token in items:
            if token.startswith(":"):  # ":000000 100644 <zeros> <blob> A" then the path
                path = next(items)
                if _is_record_path(path, self.prefix):
                    found[current][path] = token.split()[3]
            elif token:
                current = token
        return found


def _is_record_path(path: str, prefix: str) -> bool:
    rest = path.removeprefix(f"{prefix}/")
    return rest != path and _RECORD_PATH.fullmatch(rest) is not None


class Reader:
    """Records read from blobs, each (path, blob) once: records are immutable."""

    def __init__(self, repo: Path, prefix: str):
        self.repo, self.prefix = repo, prefix
        self.read: dict[tuple[str, str], Result | None] = {}

    def results(self, blobs: Mapping[str, str]) -> dict[str, Result]:
        """path -> record, for the readable ones among ``blobs`` (path -> blob id)."""
        new = {p: b for p, b in blobs.items() if (p, b) not in self.read}
        if new:
            self._read(new)
        found = {p: self.read[(p, b)] for p, b in blobs.items()}
        return {p: r for p, r in found.items() if r is not None}

    def _read(self, blobs: Mapping[str, str]) -> None:
        from runner.records import load_results, result_path

        data = _cat(self.repo, set(blobs.values()))
        with tempfile.TemporaryDirectory(prefix="cr-records-") as tmp:
            for path, blob in blobs.items():
                target = Path(tmp) / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data[blob])
            loaded = load_results(Path(tmp) / self.prefix).results  # unreadable ones skipped
        by_path = {result_path(Path(self.prefix), r).as_posix(): r for r in loaded}
        for path, blob in blobs.items():
            self.read[(path, blob)] = by_path.get(path)


def _cat(repo: Path, blobs: set[str]) -> dict[str, bytes]:
    """The bytes of each blob, in one ``git cat-file --batch``."""
    order = sorted(blobs)
    done = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input="".join(f"{b}\n" for b in order).encode(),
        capture_output=True,
        env=git.environment(),
        check=True,
    )
    out, at, found = done.stdout, 0, {}
    for blob in order:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        found[blob] = out[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
    return found
