"""A code submission's whole evaluation versus the original programs run by bare `docker run`.

The Codabench code bundle of the tests (tests/examples/importers/codabench-code), imported;
its solution evaluated through ``runner.evaluation.local.evaluate`` (ingestion program around
the code in the sandbox, output zipped and handed over, scoring program in the sandbox,
record written) and, interleaved, the same two programs run by ``docker run --rm`` with
Codabench's mounts and nothing else. Prints both medians, the difference and the ratio.

    python bench/bench_code.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from runner.evaluation.local import Options, evaluate
from runner.importers import import_bundle
from runner.loader import load_repo

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "tests" / "examples" / "importers" / "codabench-code"
IMAGE = "challenge-runner/python:bookworm"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def setup(scratch: Path) -> tuple[Path, str]:
    root = scratch / "repo"
    (done,) = import_bundle("codabench", BUNDLE, root / "challenges", image=IMAGE)
    path = done.folder / "challenge.yaml"
    path.write_text(path.read_text().replace("TODO-maintainer-login", "octocat"))
    folder = root / "submissions" / "seeds-mini" / "alice"
    folder.mkdir(parents=True)
    subprocess.run(["cp", "-r", str(BUNDLE / "solution"), str(folder / "model")], check=True)
    (folder / "first.yaml").write_text(
        "challenge: seeds-mini\nparticipant: alice\nname: first\ncode: model\n"
    )
    return root, done.identity


def ours(root: Path, identity: str, scratch: Path) -> float:
    repo = load_repo(root)
    (submission,) = repo.submissions
    results = Path(tempfile.mkdtemp(dir=scratch))
    options = Options(results_dir=results, env={"CHALLENGE_KEY": identity}, now=NOW)
    started = time.perf_counter()
    done = evaluate(repo.challenges["seeds-mini"], submission, options)
    elapsed = time.perf_counter() - started
    assert done.result.status == "scored", done.result.message
    return elapsed


def bare(scratch: Path) -> float:
    work = Path(tempfile.mkdtemp(dir=scratch))
    res, scores = work / "res", work / "scores"
    for folder in (res, scores):
        folder.mkdir()
        folder.chmod(0o777)

    def run(mounts: dict[Path, str], command: str) -> None:
        volumes = [f"-v{host}:{inside}" for host, inside in mounts.items()]
        subprocess.run(
            ["docker", "run", "--rm", "--network=none", *volumes, "-w", "/app/program", IMAGE,
             *command.split()],
            check=True, capture_output=True,
        )  # fmt: skip

    started = time.perf_counter()
    run(
        {
            BUNDLE / "ingestion_program": "/app/program:ro",
            BUNDLE / "solution": "/app/ingested_program:ro",
            BUNDLE / "dev_phase" / "input_data": "/app/input_data:ro",
            res: "/app/output",
        },
        "python3 ingestion.py",
    )
    run(
        {
            BUNDLE / "scoring_program": "/app/program:ro",
            BUNDLE / "dev_phase" / "reference_data": "/app/input/ref:ro",
            res: "/app/input/res:ro",
            scores: "/app/output",
        },
        "python3 scoring.py",
    )
    elapsed = time.perf_counter() - started
    assert json.loads((scores / "scores.json").read_text())["accuracy"] == 0.9
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-code-") as tmp:
        scratch = Path(tmp)
        scratch.chmod(0o755)
        root, identity = setup(scratch)
        mine, theirs = [], []
        for _ in range(args.runs):
            theirs.append(bare(scratch))
            mine.append(ours(root, identity, scratch))
    a, b = statistics.median(mine), statistics.median(theirs)
    print(f"runner (ingest + score + record): median {a:.3f} s over {args.runs} runs")
    print(f"bare docker run x2:               median {b:.3f} s")
    print(f"difference {a - b:+.3f} s, ratio {a / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
