"""A challenge (``challenge.yaml``) and the specs it is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from runner.models.phase import Phase

ColumnKind = Literal["probability", "label", "number", "score"]


@dataclass(frozen=True)
class PredictionColumn:
    """One column a predictions file must have besides the id column."""

    name: str
    kind: ColumnKind
    classes: tuple[str, ...] = ()  # allowed labels, for kind == "label" (empty: any)


@dataclass(frozen=True)
class PredictionsSpec:
    id_column: str
    columns: tuple[PredictionColumn, ...]
    # "files": an opaque file (a .zip is unpacked) that the challenge's scoring program reads
    format: Literal["csv", "files"] = "csv"
    max_bytes: int = 1 << 30

    def column(self, name: str) -> PredictionColumn:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class MetricSpec:
    """A metric of a challenge. The first one of ``Challenge.metrics`` is primary.

    Direction and display precision are resolved once, when the spec is made (by the
    loader): what challenge.yaml declares, else the registry metric's (``runner.metrics``),
    else higher-is-better with 4 decimals (custom metrics computed by ``scoring.py``).
    Every reader (ranking, board, comment, site) takes them from here.
    """

    name: str
    column: str | None = None  # the predictions column it scores (None: the only one)
    custom: bool = False
    higher_is_better: bool = None  # type: ignore[assignment]  # None: resolved, see above
    precision: int = None  # type: ignore[assignment]  # display decimals; None: resolved

    def __post_init__(self) -> None:
        higher: bool | None = self.higher_is_better
        precision: int | None = self.precision
        if higher is None or precision is None:
            from runner import metrics

            known = None if self.custom else metrics.REGISTRY.get(self.name)
            if higher is None:
                higher = known.higher_is_better if known else True
            if precision is None:
                precision = known.precision if known else 4
        object.__setattr__(self, "higher_is_better", higher)
        object.__setattr__(self, "precision", precision)

    label: str | None = None  # shown on the site instead of the name, e.g. "Total"
    range: tuple[float, float] | None = None  # custom metrics: intervals are clipped to it
    interval: bool = True  # False: no confidence interval (value only)
    key: str | None = None  # the scoring program's name for it (default: ``name``)


@dataclass(frozen=True)
class HiddenDataSpec:
    """Where the hidden data comes from (DESIGN §4)."""

    source: str  # repo-relative path to a .tar.age, file:///dir, a directory, or https://...
    sha256: str | None = None  # of the archive bytes (required for archives and URLs)
    key_env: str | None = None  # env var holding the age identity that decrypts it
    token_env: str | None = None  # env var holding a bearer token for https sources
    recipient: str | None = None  # age public key: private scores are encrypted to it
    # DEMO ONLY: a committed identity used when key_env is unset. It protects nothing.
    demo_key_file: Path | None = None


@dataclass(frozen=True)
class SplitSpec:
    """How truth rows divide into public and private: a column, or a seeded fraction."""

    column: str | None = "split"
    public_fraction: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class ContainerSpec:
    """Resource limits for the sandbox (DESIGN §5)."""

    timeout_s: float = 600.0
    memory: str = "2g"
    cpus: float = 1.0
    pids: int = 256
    output_limit: str = "64m"
    tmp_size: str = "64m"
    build_timeout_s: float = 900.0
    image_max_size: str = "4g"
    runtime: str | None = None  # e.g. "runsc" for gVisor
    gpus: int = 0  # passed as a device request; check_engine needs a GPU runtime for it
    # Digest-pinned references a build's FROM may use (pulled if absent); empty: local only.
    base_images: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestionProgram:
    """A Codabench ingestion program: it runs the participant's code (``code:`` submissions)
    on the hidden *inputs* and writes what the scoring program reads, in one sandboxed
    container (the program's image), laid out as Codabench's compute worker lays it out."""

    path: Path  # the program's folder inside the challenge folder
    command: str  # e.g. "python3 ingestion.py" or "python $ingestion_program/ingestion.py ..."


@dataclass(frozen=True)
class ScoringProgram:
    """A scoring program brought from another platform, run unmodified (``runner.program``).

    Trusted maintainer code, but it reads participant files: it runs in the sandbox of
    DESIGN §5 (no network, read-only, unprivileged) with the phase's reference data.
    """

    path: Path  # the program's folder inside the challenge folder
    protocol: Literal["codabench", "evalai"]
    image: str  # the image it runs in (Codabench's docker_image, or one with its libraries)
    command: str | None = None  # codabench: e.g. "python $program/score.py $input $output"
    splits: tuple[tuple[str, str], ...] = ()  # evalai: (split codename, public|private)
    phase_names: tuple[tuple[str, str], ...] = ()  # evalai: (our phase id, its codename)
    ingestion: IngestionProgram | None = None  # codabench code submissions
    tasks: tuple[str, ...] = ()  # codabench: every phase's tasks, each run on its own data
    # codabench: computed columns, key -> (op, keys it combines): ("avg", ("d1", "d2"))
    computed: tuple[tuple[str, tuple[str, tuple[str, ...]]], ...] = ()

    def split_of(self, name: str) -> str | None:
        return dict(self.splits).get(name)

    def codename(self, phase_id: str) -> str:
        return dict(self.phase_names).get(phase_id, phase_id)


@dataclass(frozen=True)
class LeaderboardSpec:
    best_of: Literal["participant", "team"] = "participant"
    ladder: bool = False
    ci: float = 0.95  # confidence level of the intervals
    bootstrap: int = 1000  # bootstrap resamples for the intervals


@dataclass(frozen=True)
class Challenge:
    id: str
    title: str
    summary: str
    root: Path  # challenges/<id>/
    maintainers: tuple[str, ...]
    predictions: PredictionsSpec
    metrics: tuple[MetricSpec, ...]
    phases: tuple[Phase, ...]
    hidden: HiddenDataSpec
    public_dir: Path | None = None
    split: SplitSpec = field(default_factory=SplitSpec)
    submission_kinds: tuple[str, ...] = ("predictions", "container")
    container: ContainerSpec = field(default_factory=ContainerSpec)
    leaderboard: LeaderboardSpec = field(default_factory=LeaderboardSpec)
    scoring: Path | None = None  # challenges/<id>/scoring.py (trusted maintainer code)
    scoring_image: str | None = None  # scoring.py runs there, sandboxed, not in the runner
    program: ScoringProgram | None = None  # a foreign scoring program, run unmodified
    sha256: str = ""  # of challenge.yaml and scoring.py: a change makes records stale
    runs_on: tuple[str, ...] = ()  # runner labels of the ingest jobs (default ubuntu-latest)

    @property
    def primary(self) -> MetricSpec:
        return self.metrics[0]

    def phase_at(self, when: datetime) -> Phase | None:
        return next((p for p in self.phases if p.contains(when)), None)

    def phase(self, phase_id: str) -> Phase | None:
        return next((p for p in self.phases if p.id == phase_id), None)

    @property
    def private_reveal_at(self) -> datetime:
        """When private-split scores of every evaluation may be shown in clear.

        The latest reveal of a private phase (or the end of the last phase when none is
        private): revealing earlier would let the private split be probed while a phase
        that ranks on it is still running.
        """
        private = [p.reveal_at for p in self.phases if p.leaderboard == "private"]
        return max(private) if private else max(p.end for p in self.phases)
