"""Read /input/test.csv, write /output/predictions.csv with a malignancy probability."""

import csv
import json

import numpy as np

with open("/opt/model/weights.json") as f:
    weights = json.load(f)
with open("/input/test.csv", newline="") as f:
    rows = list(csv.DictReader(f))
x = np.array([[float(r[name]) for name in weights["features"]] for r in rows])
z = (x - np.array(weights["mean"])) / np.array(weights["std"])
proba = 1 / (1 + np.exp(-(z @ np.array(weights["coef"]) + weights["intercept"])))
with open("/output/predictions.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["id", "malignant"])
    for row, p in zip(rows, proba, strict=True):
        out.writerow([row["id"], f"{p:.6f}"])
