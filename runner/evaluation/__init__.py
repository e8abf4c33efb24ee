"""One evaluation as data: prepare -> build -> ingest -> score -> record (DESIGN §3).

Each step is a function from typed, frozen values to a typed, frozen, JSON-serialisable
result (``runner.serial.JsonData``):

=========  ==========================================  ==================================
step       function                                    result
=========  ==========================================  ==================================
prepare    ``steps.prepare(challenge, submission, data)``  ``Prepared`` (the cache key)
build      ``steps.build(challenge, submission)``          ``Built`` (+ the image)
ingest     ``steps.ingest(..., inputs, work)``             ``Ingested`` (predictions)
score      ``score.score(..., truth, ingested, prepared)`` ``Result`` (private in clear)
record     ``record.finish`` + ``record.record``           the sealed, written ``Result``
=========  ==========================================  ==================================

Two chains call them: ``local.evaluate`` (``challenge-runner evaluate`` and ``run``) keeps
the step results in memory; ``runner.github.stages`` (the ``pr`` commands) passes them
between CI jobs as encrypted artifacts. Only the transport differs, so a record made by
either chain is the same record (``tests/test_evaluation_chains.py`` diffs them).
"""

from runner.evaluation.batch import RunReport, run_all
from runner.evaluation.local import Evaluation, LimitReached, Options, evaluate
from runner.evaluation.record import as_reevaluation, evaluation_lock, finish, seal_for_storage
from runner.evaluation.score import score, score_file, withheld_reason
from runner.evaluation.steps import (
    Built,
    Context,
    Ingested,
    Prepared,
    artifact_sha256,
    build,
    evaluation_key,
    ingest,
    prepare,
)

__all__ = [
    "Built",
    "Context",
    "Evaluation",
    "Ingested",
    "LimitReached",
    "Options",
    "Prepared",
    "RunReport",
    "artifact_sha256",
    "as_reevaluation",
    "build",
    "evaluate",
    "evaluation_key",
    "evaluation_lock",
    "finish",
    "ingest",
    "prepare",
    "run_all",
    "score",
    "score_file",
    "seal_for_storage",
    "withheld_reason",
]
