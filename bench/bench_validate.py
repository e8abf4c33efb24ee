"""Start-up and validation speed (issue 2).

Prints: the median wall time of ``challenge-runner --help`` (target < 0.3 s), and of
``challenge-runner validate`` over a generated repository of 5 challenges x 2,000 manifests
(target < 5 s), each with its predictions file. Run: ``python bench/bench_validate.py``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent / "tests" / "examples" / "base" / "challenges" / "toy"


def make_repo(root: Path, challenges: int, manifests: int) -> None:
    for c in range(challenges):
        cid = f"bench-{c}"
        folder = root / "challenges" / cid
        shutil.copytree(BASE, folder)
        text = (folder / "challenge.yaml").read_text().replace("id: toy", f"id: {cid}")
        (folder / "challenge.yaml").write_text(text)
        for m in range(manifests):
            login = f"user{m:05d}"
            sub = root / "submissions" / cid / login
            sub.mkdir(parents=True)
            (sub / "model.csv").write_text("id,y\n1,0.5\n")
            (sub / "model.yaml").write_text(
                f"challenge: {cid}\nparticipant: {login}\nname: model\n"
                f"description: Submission {m} of the benchmark.\npredictions: model.csv\n"
                "links: {code: 'https://example.org/code'}\n"
            )


def timed(args: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--challenges", type=int, default=5)
    parser.add_argument("--manifests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    cli = shutil.which("challenge-runner") or sys.exit("challenge-runner is not installed")
    helps = timed([cli, "--help"], opts.repeat * 2)
    print(f"challenge-runner --help: median {statistics.median(helps):.3f} s (target < 0.3 s)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_repo(root, opts.challenges, opts.manifests)
        runs = timed([cli, "validate", "--root", str(root)], opts.repeat)
        total = opts.challenges * opts.manifests
        median = statistics.median(runs)
        print(
            f"validate {opts.challenges} challenges x {opts.manifests} manifests "
            f"({total:,} files): "
            f"median {median:.2f} s, {median / total * 1e3:.3f} ms per manifest (target < 5 s)"
        )


if __name__ == "__main__":
    main()
