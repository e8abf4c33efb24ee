"""Read /input/test.csv, write /output/predictions.csv with a malignancy probability.

Plain Python (python:3.11-slim has no numpy, and builds have no network to install it)."""

import csv
import json
import math

with open("/opt/model/weights.json") as f:
    w = json.load(f)
with open("/input/test.csv", newline="") as f:
    rows = list(csv.DictReader(f))
with open("/output/predictions.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["id", "malignant"])
    for row in rows:
        z = w["intercept"] + sum(
            c * (float(row[name]) - m) / s
            for name, c, m, s in zip(w["features"], w["coef"], w["mean"], w["std"], strict=True)
        )
        out.writerow([row["id"], f"{1 / (1 + math.exp(-z)):.6f}"])
