"""A results store under load, for tests/test_record_push.py and bench/bench_record_load.py.

A bare repository stands in for GitHub: its ``main`` holds the example breast-cancer
challenge. Each recorder is a separate process with its own clone (as each record job has
its own checkout) and its own records, all started at once behind a barrier. ``verify``
then reads the branch: every record on it exactly once, byte for byte, and nothing else
changed.
"""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from records_factory import result, utc

from runner.github.record import blob_id

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE = ROOT / "challenges" / "breast-cancer"
BRANCH = "main"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@dataclass
class Store:
    bare: Path
    base: str  # the branch's commit before any recorder ran
    base_files: dict[str, str]  # path -> blob at base


def make_store(tmp: Path) -> Store:
    seed = tmp / "seed"
    seed.mkdir(parents=True)
    shutil.copytree(CHALLENGE, seed / "challenges" / "breast-cancer")
    git(seed, "init", "-q", "-b", BRANCH)
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    bare = tmp / "store.git"
    git(tmp, "clone", "-q", "--bare", str(seed), str(bare))
    base = git(bare, "rev-parse", BRANCH).strip()
    return Store(bare, base, tree_files(bare, base))


def tree_files(repo: Path, commit: str) -> dict[str, str]:
    out = git(repo, "ls-tree", "-r", "-z", commit)
    return {
        e.split("\t", 1)[1]: e.split("\t", 1)[0].split()[2] for e in filter(None, out.split("\0"))
    }


@dataclass
class Recorder:
    name: str
    clone: Path
    records: Path
    expected: dict[str, str] = field(default_factory=dict)  # store path -> blob id


def make_recorder(
    store: Store, tmp: Path, name: str, count: int = 1, day: str = "05", job: str = ""
) -> Recorder:
    """A checkout and ``count`` records of participant ``name`` (each its own evaluation);
    ``job`` tells apart two record jobs of one participant."""
    from runner.records import result_path, write_result

    tag = f"{name}{job}"
    clone = tmp / f"clone-{tag}"
    git(tmp, "clone", "-q", str(store.bare), str(clone))
    records = tmp / f"records-{tag}"
    rec = Recorder(tag, clone, records)
    for i in range(count):
        made = result(
            challenge="breast-cancer",
            participant=name,
            created_at=utc(f"2026-12-{day}T12:{i:02d}"),
        )
        path = write_result(records, made)
        rec.expected[result_path(Path("results"), made).as_posix()] = blob_id(path.read_bytes())
    return rec


def run_all(worker, recorders: list[Recorder], *args) -> tuple[list[dict], float]:
    """Run ``worker(recorder, *args) -> dict`` in one process per recorder, all released at
    once by a barrier; the dicts it returns, and the wall time from release to the last."""
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(len(recorders) + 1), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(worker, r, args, barrier, queue)) for r in recorders]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.monotonic()
    got = [queue.get() for _ in procs]
    wall = time.monotonic() - start
    for p in procs:
        p.join()
    return got, wall


def _child(worker, recorder, args, barrier, queue) -> None:
    barrier.wait()
    try:
        queue.put(worker(recorder, *args))
    except BaseException as err:  # the parent reports it; a child must always answer
        queue.put({"name": recorder.name, "error": f"{type(err).__name__}: {err}"})
        sys.exit(1)


@dataclass(frozen=True)
class Tally:
    lost: int  # records expected on the branch and not there (or with other bytes)
    duplicated: int  # records added more than once, or at a path nobody wrote
    other_changes: int  # files of the base changed or removed
    commits: int


def verify(store: Store, recorders: list[Recorder]) -> Tally:
    head = git(store.bare, "rev-parse", BRANCH).strip()
    files = tree_files(store.bare, head)
    expected = {p: b for r in recorders for p, b in r.expected.items()}
    lost = sum(1 for p, b in expected.items() if files.get(p) != b)
    added = git(store.bare, "log", "--format=", "--diff-filter=A", "--name-only", head)
    counts = Counter(p for p in added.splitlines() if p.startswith("results/"))
    extra = set(files) - set(expected) - set(store.base_files)
    duplicated = sum(n - 1 for n in counts.values() if n > 1) + len(extra)
    other = sum(1 for p, b in store.base_files.items() if files.get(p) != b)
    commits = int(git(store.bare, "rev-list", "--count", f"{store.base}..{head}"))
    return Tally(lost, duplicated, other, commits)
