"""The score step: a predictions file against the hidden *truth*, into a result record.

Runs trusted code only (never participant code), with the truth; in CI it is a job of its
own. The record it returns still holds private scores in clear: the record step seals them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.evaluation.steps import OK, Context, Ingested, Prepared, runner_version
from runner.models import Challenge, LadderStats, Provenance, Result, Score, Status, Submission

if TYPE_CHECKING:
    from runner.models import Phase


@dataclass(frozen=True)
class Scored:
    """A predictions file's verdict: a status, the participant-safe message and the scores."""

    status: Status
    message: str
    detail: str = ""
    scores: dict[str, dict[str, Score]] | None = None
    ladder: LadderStats | None = None


def score(
    challenge: Challenge,
    submission: Submission,
    truth: Path,
    got: Ingested,
    prepared: Prepared,
    *,
    now: datetime,
    context: Context,
    truth_cache: Path | None = None,
    unsafe: bool = False,
) -> Result:
    """The record of an evaluation from what ingest produced (scoring it when it is "ok").

    ``truth_cache`` (``HiddenData.prepared``) keeps the truth prepared once for later
    evaluations of the same data (``runner.truthcache``). ``unsafe``: a scoring program
    runs even where the engine cannot enforce a sandbox control (local use only).
    """
    from runner.data import file_sha256
    from runner.records import new_evaluation_id

    verdict = Scored(_status(got.status), got.message, got.detail)
    predictions_sha = None
    phase = challenge.phase_at(now)
    if got.status == OK and got.predictions is not None:
        predictions_sha = prepared.predictions_sha256  # the committed file: hashed once
        if got.predictions != submission.predictions or predictions_sha is None:
            predictions_sha = file_sha256(got.predictions)  # written by the container
        if challenge.program is not None:  # a foreign program scores, in the sandbox
            verdict = score_by_program(
                challenge, truth, got.predictions, phase, unsafe=unsafe,
                output_per_task=submission.kind == "code",
            )  # fmt: skip
        else:
            verdict = score_file(
                challenge,
                truth,
                got.predictions,
                saw_hidden_inputs=submission.kind != "predictions",
                truth_cache=truth_cache,
            )
    return Result(
        challenge=challenge.id,
        phase=phase.id if phase else None,
        participant=submission.participant,
        team=submission.team,
        user_id=context.user_id,
        submission=submission.name,
        evaluation_id=new_evaluation_id(now),
        created_at=now,
        status=verdict.status,
        message=verdict.message,
        detail=_seal_detail(challenge, verdict.detail),
        scores=verdict.scores or {},
        ladder=verdict.ladder,
        baseline=submission.baseline,
        cache_key=prepared.cache_key,
        provenance=Provenance(
            runner_version=runner_version(),
            challenge_sha256=challenge.sha256,
            data_sha256=prepared.data_sha256,
            manifest_sha256=submission.sha256,
            image_digest=got.image_digest,
            predictions_sha256=predictions_sha,
            artifact_sha256=prepared.artifact_sha256,
            commit=context.commit,
            pull_request=context.pull_request,
            run_url=context.run_url,
        ),
    )


def _status(status: str) -> Status:
    from runner.models import STATUSES

    if status in STATUSES:
        return status  # type: ignore[return-value]
    # "ok" without a predictions file: the step before lost it, which is the platform's fault.
    return "error"


def score_file(
    challenge: Challenge,
    truth_path: Path,
    predictions: Path,
    *,
    saw_hidden_inputs: bool = False,
    truth_cache: Path | None = None,
) -> Scored:
    """The verdict on a predictions file against the truth.

    A file written by a container that read the hidden inputs gets a fixed reason: the
    validator's messages quote the file, and the file may quote the hidden inputs. The exact
    reason goes to the (sealed) maintainer detail.
    """
    from runner.errors import PredictionsError
    from runner.scoring import ScoringError, score_predictions
    from runner.truthcache import prepared_truth

    truth = prepared_truth(truth_path, challenge, truth_cache)
    try:
        outcome = score_predictions(challenge, truth, predictions)
    except PredictionsError as err:
        if saw_hidden_inputs:
            return Scored("invalid", withheld_reason(challenge), err.message)
        return Scored("invalid", err.message, err.detail or "")
    except ScoringError as err:
        return Scored("error", err.message, err.detail or "")
    return Scored("scored", "scored", "", outcome.scores, outcome.ladder)


def score_by_program(
    challenge: Challenge,
    truth: Path,
    predictions: Path,
    phase: Phase | None,
    *,
    unsafe: bool = False,
    output_per_task: bool = False,
) -> Scored:
    """The verdict of the challenge's scoring program (``runner.program``) on a file.

    Its reference data sits beside the truth (hidden ``reference/``). One number per score:
    no intervals, no Ladder.
    """
    from runner.data.archive import REFERENCE
    from runner.program import run_program_in_temp

    outcome = run_program_in_temp(
        challenge, truth.parent / REFERENCE, predictions, phase.id if phase else None, unsafe,
        output_per_task,
    )  # fmt: skip
    scores = {
        split: {name: Score(value) for name, value in values.items()}
        for split, values in outcome.scores.items()
    }
    return Scored(_status(outcome.status), outcome.message, outcome.detail, scores or None)


def withheld_reason(challenge: Challenge) -> str:
    """What a participant is told when their container's predictions file is not valid."""
    from runner.predictions import expected_header

    return (
        "/output/predictions.csv does not match the challenge's format: a CSV with the header "
        f"`{expected_header(challenge.predictions)}` and one row per test id. The exact reason "
        "is withheld because the file was written from hidden inputs; run your container on "
        "the public sample inputs to see it."
    )


def _seal_detail(challenge: Challenge, detail: str) -> str | None:
    """Maintainer detail may hold output of a run that saw hidden inputs: never in clear."""
    if not detail or not challenge.hidden.recipient:
        return None
    from runner.data import encrypt_text

    return encrypt_text(detail, challenge.hidden.recipient)
