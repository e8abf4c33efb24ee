"""Run a challenge's ``scoring.py`` in its declared ``scoring_image``, sandboxed.

``scoring.py`` is trusted maintainer code, but it may need libraries the runner does not
have, and it reads files a participant wrote. With ``scoring_image`` it runs there, in the
sandbox of DESIGN §5 (no network, read-only, unprivileged, the challenge's container limits):
one run scores every part (each split and interval bucket, ``runner.customscore``) through
``scorer_adapter.py``. It gets the truth and the predictions of this evaluation, nothing else
of the runner's. Its failures are the platform's (``ScoringError``: status ``error``), and
its output may quote the truth, so it goes only to the sealed maintainer detail.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from runner.models import Challenge
from runner.program import copy_file

ADAPTER = Path(__file__).with_name("scorer_adapter.py")


def score_in_image(
    challenge: Challenge, truth: Any, predictions: Any, parts: list[np.ndarray]
) -> list[Any]:
    """What ``score`` returned on each part (or a ``RaisedIn``), from one sandboxed run."""
    from runner.customscore import NotADict, RaisedIn
    from runner.sandbox import run_submission
    from runner.scoring import ScoringError

    assert challenge.scoring is not None and challenge.scoring_image is not None
    with tempfile.TemporaryDirectory(prefix="challenge-runner-scorer-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the container's unprivileged user reads the staged input under it
        staged = work / "input"
        staged.mkdir(mode=0o755)
        _stage(challenge, truth, predictions, parts, staged)
        outcome = run_submission(
            challenge.scoring_image,
            ["python3", "/input/scorer_adapter.py", "/input", "/output"],
            input_dir=staged,
            submission_dir=None,
            work_dir=work,
            limits=challenge.container,
            whole_output=True,
        )
        if outcome.status != "ok" or outcome.predictions is None:
            raise ScoringError(
                f"scoring.py in {challenge.scoring_image} did not run ({outcome.status}: "
                f"{outcome.message})\n{outcome.detail}"
            )
        with zipfile.ZipFile(outcome.predictions) as bundle:
            answer = json.loads(bundle.read("results.json"))
    if "load_error" in answer:
        raise ScoringError(f"{challenge.scoring}: cannot load score():\n{answer['load_error']}")
    results: list[Any] = []
    for item in answer["results"]:
        if "raised" in item:
            results.append(RaisedIn(item["raised"]))
        elif "returned" in item:
            results.append(item["returned"])
        else:
            results.append(NotADict(item.get("returned_type", "?")))
    if len(results) != len(parts):
        raise ScoringError(f"the scorer answered {len(results)} of {len(parts)} parts")
    return results


def _stage(
    challenge: Challenge, truth: Any, predictions: Any, parts: list[np.ndarray], target: Path
) -> None:
    truth.to_csv(target / "truth.csv", index=False)
    predictions.to_csv(target / "predictions.csv", index=False)
    columns = {
        "truth": _types(truth),
        "predictions": _types(predictions),
    }
    (target / "columns.json").write_text(json.dumps(columns))
    (target / "parts.json").write_text(json.dumps([rows.tolist() for rows in parts]))
    assert challenge.scoring is not None
    copy_file(challenge.scoring, target / "scoring.py")
    copy_file(ADAPTER, target / "scorer_adapter.py")
    for name in ("truth.csv", "predictions.csv", "columns.json", "parts.json"):
        (target / name).chmod(0o644)


def _types(frame: Any) -> dict[str, str]:
    """Column -> the dtype read back: text columns as str, numbers and booleans as they are."""
    out = {}
    for name, dtype in frame.dtypes.items():
        kind = getattr(dtype, "kind", "O")
        out[str(name)] = str(dtype) if kind in "biuf" else "str"
    return out
