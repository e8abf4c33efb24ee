"""`challenge-runner evaluate` of a large predictions file vs a plain pyarrow + sklearn script.

Issue 10's speed target. One challenge with N truth rows (id, 0/1 target, public/private split)
as age-encrypted hidden data, and a predictions submission of N rows in shuffled order.

(a) ``challenge-runner evaluate MANIFEST --force --no-limits``, the whole command as a user runs
    it: start-up, loading the repository, hidden data (cached by the warm-up run), hashing,
    validation, id matching, roc_auc + log_loss on both splits with 95% intervals, and the
    record written.
(b) a plain script in a fresh interpreter: pyarrow reads truth.csv and the predictions, joins
    them on id, and calls scikit-learn's ``roc_auc_score`` and ``log_loss`` per split (no
    validation, no intervals, no record).

One warm-up evaluation first (it unpacks the hidden data and prepares the truth once); then
(a) and (b) alternate, medians of ``--repeats``. Target: ratio (a)/(b) <= 0.35 at 3 million rows.

    python bench/bench_evaluate_large.py                   # 3 million rows
    python bench/bench_evaluate_large.py --rows 10000000   # the 10 million figure
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

PLAIN = """
import sys
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sklearn.metrics as sk

text = pacsv.ConvertOptions(column_types={"id": pa.string()})
truth = pacsv.read_csv(sys.argv[1], convert_options=text)
pred = pacsv.read_csv(sys.argv[2], convert_options=text).rename_columns(["id", "p"])
joined = truth.join(pred, "id")
for split in ("public", "private"):
    part = joined.filter(pc.equal(joined["split"], split))
    y, p = part["target"].to_numpy(), part["p"].to_numpy()
    print(split, sk.roc_auc_score(y, p), sk.log_loss(y, p))
"""


def make_repo(root: Path, rows: int, seed: int = 0) -> tuple[Path, Path, Path]:
    """(manifest, plain truth.csv, predictions.csv) of a one-challenge repository."""
    rng = np.random.default_rng(seed)
    challenge = root / "challenges" / "big"
    hidden = root / "plain-hidden"
    (hidden / "inputs").mkdir(parents=True)
    challenge.mkdir(parents=True)
    ids = pa.array(np.char.add("row", rng.permutation(rows).astype(str)))
    target = rng.integers(0, 2, rows)
    split = np.where(rng.random(rows) < 0.3, "public", "private")
    pacsv.write_csv(pa.table({"id": ids, "x": rng.random(rows).round(4)}), hidden / "inputs/x.csv")
    pacsv.write_csv(pa.table({"id": ids, "target": target, "split": split}), hidden / "truth.csv")
    from runner.data.archive import pack
    from runner.data.crypto import ensure_demo_key

    recipient = ensure_demo_key(challenge / "demo-key.txt")
    sha256 = pack(hidden, [recipient], challenge / "hidden.tar.age")
    (challenge / "challenge.yaml").write_text(
        "id: big\ntitle: Big\nsummary: Benchmark.\nmaintainers: [bench]\n"
        "data:\n  hidden:\n    source: hidden.tar.age\n"
        f"    sha256: {sha256}\n    key_env: BIG_KEY\n    recipient: {recipient}\n"
        "    demo_key_file: demo-key.txt\n"
        "predictions: {id_column: id, columns: {target: probability}}\n"
        "metrics: [{name: roc_auc}, {name: log_loss}]\nsplit: {column: split}\n"
        "phases: [{id: open, start: 2020-01-01T00:00:00Z, end: 2099-01-01T00:00:00Z}]\n"
        "submission_kinds: [predictions]\n"
        "leaderboard: {ci: 0.95, bootstrap: 1000}\n"
    )
    folder = root / "submissions" / "big" / "bench"
    folder.mkdir(parents=True)
    proba = np.round(np.clip(rng.random(rows) * 0.7 + 0.3 * target, 0, 1), 6)
    order = rng.permutation(rows)
    predictions = folder / "shuffled.csv"
    pacsv.write_csv(pa.table({"id": ids.take(order), "target": proba[order]}), predictions)
    manifest = folder / "shuffled.yaml"
    manifest.write_text(
        "challenge: big\nparticipant: bench\nname: shuffled\npredictions: shuffled.csv\n"
    )
    return manifest, hidden / "truth.csv", predictions


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a command; CPU (user + system) is steadier on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _report(label: str, runs: list[tuple[float, float]]) -> tuple[float, float]:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    listed = ", ".join(f"{w:.2f}" for w, _ in runs)
    print(f"{label} {wall:.2f} s wall (runs: {listed}), {cpu:.2f} s CPU")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    cli = shutil.which("challenge-runner") or sys.exit("challenge-runner is not installed")
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-large-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        manifest, truth, predictions = make_repo(root, opts.rows)
        env = dict(os.environ, CHALLENGE_RUNNER_CACHE=str(root / "cache"))
        size = predictions.stat().st_size / 1e6
        print(
            f"rows={opts.rows:,} predictions={size:.0f} MB setup={time.perf_counter() - start:.1f}s"
        )
        evaluate = [cli, "evaluate", str(manifest), "--root", str(root), "--force", "--no-limits"]
        plain = [sys.executable, "-c", PLAIN, str(truth), str(predictions)]
        warm, _ = timed(evaluate, env)
        print(f"warm-up evaluation (unpack + prepare the truth): {warm:.2f} s")
        a_runs, b_runs = [], []
        for _ in range(opts.repeats):
            a_runs.append(timed(evaluate, env))
            b_runs.append(timed(plain, env))
    a, a_cpu = _report("(a) challenge-runner evaluate:             ", a_runs)
    b, b_cpu = _report("(b) pyarrow read + join + sklearn per split:", b_runs)
    print(f"ratio (a)/(b) = {a / b:.2f} wall, {a_cpu / b_cpu:.2f} CPU (target <= 0.35 at 3M rows)")


if __name__ == "__main__":
    main()
