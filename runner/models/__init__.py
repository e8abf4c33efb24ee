"""Typed, frozen objects built once by the loader after validation.

Nothing downstream reads YAML or JSON dicts: the loader (``runner.loader``) turns
``challenge.yaml``, submission manifests and ``teams.yaml`` into these objects, and
``runner.records`` turns result records into ``Result``. The JSON Schemas in
``runner/schemas/`` are the contract for the files; these classes are the contract for code.

One module per domain: ``challenge`` (a challenge and its specs), ``phase`` (phases and
limits), ``submission`` (submissions and teams), ``result`` (result records). Import the
names from ``runner.models``.
"""

from __future__ import annotations

from runner.models.challenge import (
    Challenge,
    ColumnKind,
    ContainerSpec,
    HiddenDataSpec,
    IngestionProgram,
    LeaderboardSpec,
    MetricSpec,
    PredictionColumn,
    PredictionsSpec,
    ScoringProgram,
    SplitSpec,
)
from runner.models.phase import OPEN_END, Limits, Phase
from runner.models.result import SPLITS, STATUSES, LadderStats, Provenance, Result, Score, Status
from runner.models.submission import BuildSpec, Submission, SubmissionKind, Team, TeamMember

__all__ = [
    "OPEN_END",
    "SPLITS",
    "STATUSES",
    "BuildSpec",
    "Challenge",
    "ColumnKind",
    "ContainerSpec",
    "HiddenDataSpec",
    "IngestionProgram",
    "LadderStats",
    "LeaderboardSpec",
    "Limits",
    "MetricSpec",
    "Phase",
    "PredictionColumn",
    "PredictionsSpec",
    "Provenance",
    "Result",
    "Score",
    "ScoringProgram",
    "SplitSpec",
    "Status",
    "Submission",
    "SubmissionKind",
    "Team",
    "TeamMember",
]
