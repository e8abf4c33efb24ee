"""Scoring speed: our full path vs a plain pyarrow read + two scikit-learn metric calls.

(a) ``runner.scoring.score_predictions``: size/header checks, pyarrow read, id validation and
    alignment to the truth, NaN/range checks, roc_auc + log_loss on the public and private
    splits, each with a 95% confidence interval (DeLong; normal interval of the mean loss).
(b) ``pyarrow.csv.read_csv`` of the predictions + ``sklearn.metrics.roc_auc_score`` +
    ``sklearn.metrics.log_loss`` on all rows: no validation, no alignment, no intervals.

The truth is read once beforehand for both. Repetitions alternate (a) and (b); medians are
reported with the ratio (a)/(b) (target <= 1.0).

    python bench/bench_scoring.py                 # 10 million rows
    python bench/bench_scoring.py --rows 1000000  # quick check
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import sklearn.metrics as sk

from runner.models import (
    Challenge,
    HiddenDataSpec,
    LeaderboardSpec,
    MetricSpec,
    PredictionColumn,
    PredictionsSpec,
)
from runner.scoring import read_truth, score_predictions


def make_files(folder: Path, rows: int, shuffled: bool, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    ids = pa.array(np.char.add("id", np.arange(rows).astype(str)))
    target = rng.integers(0, 2, rows)
    proba = np.round(np.clip(rng.random(rows) * 0.7 + 0.3 * target, 0, 1), 6)
    split = np.where(rng.random(rows) < 0.3, "public", "private")
    truth_path, pred_path = folder / "truth.csv", folder / "predictions.csv"
    pacsv.write_csv(pa.table({"id": ids, "target": target, "split": split}), truth_path)
    order = rng.permutation(rows) if shuffled else np.arange(rows)
    pacsv.write_csv(pa.table({"id": ids.take(order), "target": proba[order]}), pred_path)
    return truth_path, pred_path


def challenge(root: Path) -> Challenge:
    return Challenge(
        id="bench",
        title="Benchmark",
        summary="10M rows",
        root=root,
        maintainers=("bench",),
        predictions=PredictionsSpec(
            "id", (PredictionColumn("target", "probability"),), max_bytes=4 << 30
        ),
        metrics=(MetricSpec("roc_auc"), MetricSpec("log_loss")),
        phases=(),
        hidden=HiddenDataSpec(source=str(root)),
        leaderboard=LeaderboardSpec(ci=0.95, bootstrap=1000),
    )


def ours(spec: Challenge, truth, pred_path: Path) -> float:
    return score_predictions(spec, truth, pred_path).scores["private"]["roc_auc"].value


def plain(truth_target: np.ndarray, pred_path: Path) -> float:
    proba = pacsv.read_csv(pred_path).column("target").to_numpy()
    sk.log_loss(truth_target, proba)
    return sk.roc_auc_score(truth_target, proba)


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shuffled", action="store_true", help="predictions in random order")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        truth_path, pred_path = make_files(folder, args.rows, args.shuffled, seed=0)
        spec = challenge(folder)
        truth = read_truth(truth_path, spec)
        target = truth.targets["target"]
        size = pred_path.stat().st_size / 1e6
        print(f"rows={args.rows:,} predictions={size:.0f} MB shuffled={args.shuffled} "
              f"setup={time.perf_counter() - start:.1f}s")  # fmt: skip
        a_times, b_times = [], []
        for _ in range(args.repeats):
            a_times.append(timed(ours, spec, truth, pred_path))
            b_times.append(timed(plain, target, pred_path))
        a, b = statistics.median(a_times), statistics.median(b_times)
        print(f"(a) score_predictions (validate+align+2 metrics x 2 splits+CIs): {a:.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in a_times)})")  # fmt: skip
        print(f"(b) pyarrow read + sklearn roc_auc + log_loss:                 {b:.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in b_times)})")  # fmt: skip
        print(f"ratio (a)/(b) = {a / b:.2f}")


if __name__ == "__main__":
    main()
