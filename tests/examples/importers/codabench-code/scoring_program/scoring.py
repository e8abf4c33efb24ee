import json
import os

import numpy as np

reference_dir = os.path.join("/app/input/", "ref")
prediction_dir = os.path.join("/app/input/", "res")
score_dir = "/app/output/"

prediction = np.loadtxt(os.path.join(prediction_dir, "prediction"))
truth = np.loadtxt(os.path.join(reference_dir, "testing_label"))
with open(os.path.join(prediction_dir, "metadata.json")) as handle:
    rows = json.load(handle)["rows"]
if prediction.shape != truth.shape:
    raise SystemExit(f"expected {truth.shape[0]} predictions, got {prediction.shape}")
scores = {"accuracy": float(np.mean(prediction == truth)), "rows": rows}
print(scores)
with open(os.path.join(score_dir, "scores.json"), "w") as handle:
    json.dump(scores, handle)
