"""Records under load: N record jobs finishing at once against one results store.

Each recorder is its own process with its own clone of a local bare repository (the store)
and its own record, all released together. Afterwards the branch is read: records lost
(not on it), duplicated (added twice, or a file nobody wrote), other files changed, and the
wall time and push attempts.

    new   `pr record --push` (runner.github.push): fetch, re-check limits, commit, push as
          a compare-and-swap, full-jitter exponential backoff until a deadline. Run in
          forked processes with the backoff scaled to a local push (--base, --cap), or with
          --cli as real `challenge-runner pr record` processes with the shipped defaults.
    old   the evaluate.yml loop it replaced: fetch, reset --hard, `pr record` (copy), add,
          commit, push; 5 attempts, sleep attempt × 5 s (issue 15).

    python bench/bench_record_load.py                    # new, N = 10, 30, 50
    python bench/bench_record_load.py --old              # and the old loop (about 3 min)
    python bench/bench_record_load.py --cli -n 50        # real CLI processes, default backoff
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from record_store import BRANCH, CHALLENGE, make_recorder, make_store, run_all, verify

from runner.github.push import Backoff, PushFailed, Target, push_records
from runner.github.record import read_candidates
from runner.loader import load_challenge

ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org"}
ENV |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.org"}


@functools.cache
def challenges() -> dict:
    """Loaded once before the recorders fork: the jobs' start-up is not what is measured."""
    return {"breast-cancer": load_challenge(CHALLENGE)}


def new_worker(rec, bare: Path, backoff: Backoff) -> dict:
    candidates = read_candidates(rec.records, "results")
    target = Target(rec.clone, "results", str(bare), BRANCH)
    try:
        return {"attempts": push_records(target, candidates, challenges(), backoff).attempts}
    except PushFailed as err:
        return {"attempts": err.outcome.attempts, "error": str(err).splitlines()[0]}


def cli_worker(rec, bare: Path, timeout: float) -> dict:
    outcome = rec.clone.parent / f"outcome-{rec.name}.json"
    args = ["pr", "record", "--root", ".", "--records", str(rec.records), "--push", BRANCH]
    args += ["--remote", str(bare), "--timeout", str(timeout), "--outcome", str(outcome)]
    done = subprocess.run(
        [sys.executable, "-m", "runner", *args], cwd=rec.clone, capture_output=True, env=ENV
    )
    import json

    attempts = json.loads(outcome.read_text())["attempts"] if outcome.exists() else 0
    return {"attempts": attempts, **({"error": done.stderr[-200:]} if done.returncode else {})}


def old_worker(rec, bare: Path, _unused) -> dict:
    """The bash loop of evaluate.yml before issue 15, step for step."""

    def git(*args: str) -> int:
        done = subprocess.run(["git", *args], cwd=rec.clone, capture_output=True, env=ENV)
        return done.returncode

    cmd = [sys.executable, "-m", "runner", "pr", "record", "--records", str(rec.records)]
    for attempt in range(1, 6):
        git("fetch", "--quiet", str(bare), BRANCH)
        git("reset", "--quiet", "--hard", "FETCH_HEAD")
        subprocess.run([*cmd, "--results", "results"], cwd=rec.clone, capture_output=True)
        git("add", "results")
        git("commit", "--quiet", "-m", "Record evaluation")
        if git("push", "--quiet", str(bare), f"HEAD:{BRANCH}") == 0:
            return {"attempts": attempt}
        time.sleep(attempt * 5)
    return {"attempts": 5, "error": "could not push the records after 5 attempts"}


def measure(worker, n: int, arg) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-record-") as tmp:
        store = make_store(Path(tmp))
        recorders = [make_recorder(store, Path(tmp), f"user{i:03d}") for i in range(n)]
        challenges()
        got, wall = run_all(worker, recorders, store.bare, arg)
        tally = verify(store, recorders)
    attempts = [g.get("attempts", 0) for g in got]
    failed = sum(1 for g in got if "error" in g)
    print(
        f"{worker.__name__:11s} N={n:3d}  lost={tally.lost:3d}  duplicated={tally.duplicated}  "
        f"other_changes={tally.other_changes}  failed_jobs={failed:3d}  wall={wall:6.1f}s  "
        f"attempts total={sum(attempts):4d} max={max(attempts):3d}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, nargs="+", default=[10, 30, 50])
    parser.add_argument("--base", type=float, default=0.05, help="backoff base (s), forked")
    parser.add_argument("--cap", type=float, default=2.0, help="backoff cap (s), forked")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--cli", action="store_true", help="real CLI processes, default backoff")
    parser.add_argument("--old", action="store_true", help="also run the old bash loop")
    opts = parser.parse_args()
    version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.0f}; {version.strip()}")
    for n in opts.n:
        if opts.cli:
            measure(cli_worker, n, opts.timeout)
        else:
            measure(new_worker, n, Backoff(opts.base, opts.cap, opts.timeout))
        if opts.old:
            measure(old_worker, n, None)


if __name__ == "__main__":
    main()
