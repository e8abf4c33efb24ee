"""Time of `validate`'s predictions check (runner.loader.predictions.check_predictions).

A predictions file of N rows against a public id list of N ids, for a valid file and for one
with a problem of every kind (which takes the slow, line-numbering path everywhere).
Run: ``python bench/bench_validate_predictions.py [--rows 1000000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from runner.arrow import text_array
from runner.loader.predictions import PublicIds, check_predictions
from runner.models import PredictionColumn, PredictionsSpec

SPEC = PredictionsSpec(
    "id",
    (PredictionColumn("p", "probability"), PredictionColumn("kind", "label", ("cat", "dog"))),
)


def write(path: Path, rows: int, bad: bool) -> None:
    with path.open("w") as out:
        out.write("id,p,kind\n")
        for i in range(rows):
            p = "1.5" if bad and i % 1000 == 0 else "0.25"
            kind = "Cat" if bad and i % 777 == 0 else "cat"
            out.write(f"t{i},{p},{kind}\n")
        if bad:
            out.write("t1,0.5,dog\nx,1,2,3\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    public = PublicIds(text_array(f"t{i}" for i in range(args.rows)), "public/sample.csv")
    with tempfile.TemporaryDirectory() as tmp:
        for bad in (False, True):
            path = Path(tmp) / "p.csv"
            write(path, args.rows, bad)
            start = time.perf_counter()
            problems = check_predictions(path, SPEC, public)
            took = time.perf_counter() - start
            size = path.stat().st_size / 1e6
            kind = "with problems" if bad else "valid"
            found = len(problems)
            print(f"{args.rows} rows ({size:.0f} MB), {kind}: {took:.2f} s, {found} problem(s)")


if __name__ == "__main__":
    main()
