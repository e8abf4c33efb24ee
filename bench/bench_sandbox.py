"""Runner overhead: ``run_submission`` versus a bare ``docker run --rm``, side by side.

Both run the busybox test image doing the same work (write a 3-line predictions.csv to
/output), interleaved so drift in the machine's load hits both alike. Prints both medians,
the difference and the ratio; the target is at most 1.0 s of added median wall time.

    python bench/bench_sandbox.py [--runs 7] [--cli podman]

``--cli podman``: the bare run is ``podman run --rm`` and the runner talks to ``DOCKER_HOST``,
e.g. rootless Podman in the cgroup v2 guest (where the image is already loaded):
``bash scripts/cgroup2-vm.sh run --images challenge-runner/busybox:test --
env PYTHONPATH=/opt/site:/home/runner/repo python3 bench/bench_sandbox.py --cli podman``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

from runner.models import ContainerSpec
from runner.sandbox import run_submission

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "challenge-runner/busybox:test"
SCRIPT = "printf 'id,y\\n1,0.5\\n2,0.25\\n' >/output/predictions.csv"
TARGET_S = 1.0


def bare(scratch: Path, cli: str = "docker") -> float:
    """The same work with the engine's CLI and no controls but the output mount."""
    output = Path(tempfile.mkdtemp(dir=scratch))
    output.chmod(0o777)
    run = [cli, "run", "--rm", "--network", "none", "-v", f"{output}:/output", IMAGE]
    started = time.perf_counter()
    subprocess.run([*run, "sh", "-c", SCRIPT], check=True)
    elapsed = time.perf_counter() - started
    assert (output / "predictions.csv").read_text().count("\n") == 3
    return elapsed


def runner(client, scratch: Path, inputs: Path) -> float:
    work = Path(tempfile.mkdtemp(dir=scratch))
    started = time.perf_counter()
    outcome = run_submission(
        IMAGE, ["sh", "-c", SCRIPT], input_dir=inputs, submission_dir=None, work_dir=work,
        limits=ContainerSpec(timeout_s=60), client=client,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert outcome.status == "ok", outcome
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cli", choices=["docker", "podman"], default="docker")
    args = parser.parse_args(argv)
    if args.cli == "docker":
        build = ROOT / "scripts" / "build-test-images.sh"
        subprocess.run(["bash", str(build), "busybox"], check=True)
    client = docker.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        scratch, inputs = Path(tmp), Path(tmp) / "inputs"
        inputs.mkdir()
        bare(scratch, args.cli), runner(client, scratch, inputs)  # warm caches, not measured
        base_name = f"{args.cli} run --rm"
        times: dict[str, list[float]] = {base_name: [], "run_submission": []}
        for _ in range(args.runs):
            times[base_name].append(bare(scratch, args.cli))
            times["run_submission"].append(runner(client, scratch, inputs))
    base, ours = (statistics.median(v) for v in times.values())
    for name, values in times.items():
        print(f"{name:>16}: median {statistics.median(values):.3f} s  "
              f"runs {' '.join(f'{v:.3f}' for v in values)}")  # fmt: skip
    verdict = "ok" if ours - base <= TARGET_S else "OVER TARGET"
    print(f"{'difference':>16}: {ours - base:+.3f} s (target <= {TARGET_S:.1f} s: {verdict})")
    print(f"{'ratio':>16}: {ours / base:.2f}x")
    return 0 if ours - base <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
