"""Vowel counting: the annotation maps word -> vowel count; so does the submission."""

import json
import os


def _split_scores(truth, predicted, words):
    exact = sum(predicted.get(w) == truth[w] for w in words) / len(words)
    error = sum(abs(predicted.get(w, 0) - truth[w]) for w in words) / len(words)
    return {"Exact": exact, "Error": error, "Total": exact - error / 10}


def evaluate(test_annotation_file, user_submission_file, phase_codename, **kwargs):
    print(kwargs["submission_metadata"])  # EvalAI passes it; EvalAI-Starters prints it too
    with open(os.path.join(os.path.dirname(__file__), "last_run.txt"), "w") as handle:
        handle.write(phase_codename)  # scripts write beside themselves (caches, logs)
    with open(test_annotation_file) as handle:
        truth = json.load(handle)
    with open(user_submission_file) as handle:
        predicted = json.load(handle)
    words = sorted(truth)
    half = len(words) // 2
    result = [{"train_split": _split_scores(truth, predicted, words[:half])}]
    if phase_codename != "dev":
        result.append({"test_split": _split_scores(truth, predicted, words[half:])})
    return {"result": result, "submission_result": result[0]["train_split"]}
