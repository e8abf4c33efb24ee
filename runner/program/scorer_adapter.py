"""Calls a challenge's scoring.py inside its ``scoring_image`` (``runner.program.scorer``).

Copied into the read-only /input of a sandboxed run with truth.csv, predictions.csv, their
column types (columns.json) and the parts to score (parts.json: row numbers per call). It
needs the image's python3 and pandas, as scoring.py itself does. It writes
OUTPUT/results.json: per part, what score() returned ({"returned": ...}), or the
traceback it raised ({"raised": ...}); or {"load_error": traceback} when scoring.py cannot
be loaded. The runner checks the values, as it does for a scorer run in its own process.
"""

import importlib.util
import json
import math
import os
import sys
import traceback

INPUT, OUTPUT = sys.argv[1], sys.argv[2]


def frame(name, columns):
    import pandas as pd

    types = {c: (str if t == "str" else t) for c, t in columns.items()}
    return pd.read_csv(os.path.join(INPUT, name + ".csv"), dtype=types, na_filter=False)


def plain(value):
    """A JSON value for what score() returned for a metric (the runner judges it)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)
    return number if math.isfinite(number) else repr(number)


def main():
    with open(os.path.join(INPUT, "columns.json"), encoding="utf-8") as handle:
        columns = json.load(handle)
    with open(os.path.join(INPUT, "parts.json"), encoding="utf-8") as handle:
        parts = json.load(handle)
    try:
        spec = importlib.util.spec_from_file_location(
            "challenge_scoring", os.path.join(INPUT, "scoring.py")
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        score = module.score
        truth, predictions = (
            frame("truth", columns["truth"]),
            frame("predictions", columns["predictions"]),
        )
    except Exception:
        return {"load_error": traceback.format_exc()}
    results = []
    for rows in parts:
        part_truth = truth.iloc[rows].reset_index(drop=True)
        part_pred = predictions.iloc[rows].reset_index(drop=True)
        try:
            got = score(part_truth, part_pred)
        except Exception:
            results.append({"raised": traceback.format_exc()})
            continue
        if isinstance(got, dict):
            results.append({"returned": {str(k): plain(v) for k, v in got.items()}})
        else:
            results.append({"returned_type": type(got).__name__})
    return {"results": results}


if __name__ == "__main__":
    with open(os.path.join(OUTPUT, "results.json"), "w", encoding="utf-8") as out:
        json.dump(main(), out)
