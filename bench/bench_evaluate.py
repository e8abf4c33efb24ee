"""Runner overhead of `challenge-runner evaluate` versus a bare `docker run --rm` (issue 3).

Both do the same work with the same image: a busybox container that writes a predictions
file for the hidden inputs. The runner side is the whole command, as a user runs it:
start-up, loading the challenge and submission, hidden data (cached), the image (built
once before timing, so the build cache answers), the sandboxed run, scoring with intervals
and writing the record (--force so each run evaluates). Interleaved runs, medians.
Target: the runner adds at most 1.0 s. Run: ``python bench/bench_evaluate.py``.
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

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "challenge-runner/busybox:test"
SCRIPT = (
    'awk -F, \'NR == 1 {print "id,y"; next} {print $1 ",0.5"}\' /input/test.csv'
    " >/output/predictions.csv\n"
)


def make_repo(root: Path, rows: int) -> Path:
    challenge = root / "challenges" / "tiny"
    (challenge / "hidden" / "inputs").mkdir(parents=True)
    ids = [f"r{i}" for i in range(rows)]
    (challenge / "hidden" / "inputs" / "test.csv").write_text(
        "id,x\n" + "".join(f"{i},{n % 7}\n" for n, i in enumerate(ids))
    )
    (challenge / "hidden" / "truth.csv").write_text(
        "id,y,split\n"
        + "".join(f"{i},{n % 2},{'public' if n % 2 else 'private'}\n" for n, i in enumerate(ids))
    )
    (challenge / "challenge.yaml").write_text(
        "id: tiny\ntitle: Tiny\nsummary: Benchmark.\nmaintainers: [bench]\n"
        "data: {hidden: {source: hidden/}}\n"
        "predictions: {id_column: id, columns: {y: probability}}\n"
        "metrics: [{name: log_loss}]\n"
        "phases: [{id: open, start: 2020-01-01T00:00:00Z, end: 2099-01-01T00:00:00Z}]\n"
        "container: {timeout_s: 60, memory: 256m, pids: 64, output_limit: 8m}\n"
    )
    folder = root / "submissions" / "tiny" / "bench"
    (folder / "image").mkdir(parents=True)
    (folder / "image" / "Dockerfile").write_text(f"FROM {IMAGE}\nCOPY run.sh /run.sh\n")
    (folder / "image" / "run.sh").write_text("#!/bin/sh\n" + SCRIPT)
    manifest = folder / "trivial.yaml"
    manifest.write_text(
        "challenge: tiny\nparticipant: bench\nname: trivial\n"
        "build: {context: image/}\ncommand: [sh, /run.sh]\n"
    )
    return manifest


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rows", type=int, default=1000)
    opts = parser.parse_args()
    subprocess.run(["bash", str(ROOT / "scripts/build-test-images.sh"), "busybox"], check=True)
    cli = shutil.which("challenge-runner") or sys.exit("challenge-runner is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = make_repo(root, opts.rows)
        evaluate = [cli, "evaluate", str(manifest), "--root", str(root), "--force", "--no-limits"]
        timed(evaluate)  # warm-up: builds the image, fills the hidden-data cache
        tag = _built_tag()
        inputs = root / "challenges/tiny/hidden/inputs"
        out = root / "bare-out"
        out.mkdir(mode=0o777)
        out.chmod(0o777)
        bare = [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--user",
            "65534:65534",
            "-v",
            f"{inputs}:/input:ro",
            "-v",
            f"{out}:/output",
            tag,
            "sh",
            "/run.sh",
        ]
        timed(bare)
        runner_times, bare_times = [], []
        for _ in range(opts.runs):
            runner_times.append(timed(evaluate))
            bare_times.append(timed(bare))
    r, b = statistics.median(runner_times), statistics.median(bare_times)
    print(f"challenge-runner evaluate: median {r:.3f} s over {opts.runs} runs")
    print(f"docker run --rm (same image, same work): median {b:.3f} s")
    print(f"runner overhead: {r - b:+.3f} s (target <= 1.0 s), ratio {r / b:.2f}x")


def _built_tag() -> str:
    """The tag the runner gave the benchmark submission's build."""
    listed = subprocess.run(
        [
            "docker",
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "--filter",
            "label=org.challenge-runner.submission=tiny/bench/trivial",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return listed[0]


if __name__ == "__main__":
    main()
