"""Scores parity predictions: input/ref/truth.txt vs input/res/predictions.txt (id label)."""

import json
import os
import sys


def read(path):
    with open(path) as handle:
        return dict(line.split() for line in handle if line.strip())


input_dir, output_dir = sys.argv[1], sys.argv[2]
truth = read(os.path.join(input_dir, "ref", "truth.txt"))
predicted = read(os.path.join(input_dir, "res", "predictions.txt"))
if set(predicted) != set(truth):
    sys.exit("predictions must cover exactly the test ids")
errors = sum(predicted[key] != label for key, label in truth.items())
with open(os.path.join(output_dir, "scores.json"), "w") as handle:
    json.dump({"accuracy": 1 - errors / len(truth), "errors": errors}, handle)
