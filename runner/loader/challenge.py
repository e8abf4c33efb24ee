"""challenge.yaml -> Challenge: schema, then the checks a schema cannot express."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner import models
from runner.loader.paths import resolve_inside
from runner.loader.problems import Collector
from runner.schemas import validator
from runner.yamlsafe import Document

# Which prediction-column kinds a metric of a given kind can score.
_COMPATIBLE = {
    "probability": {"probability"},
    "label": {"label", "probability"},
    "number": {"number"},
}


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 time with a zone, as UTC; None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else None
    except (ValueError, OverflowError):  # OverflowError: the zone pushes it past year 9999
        return None


def build_challenge(folder: Path, raw: bytes, doc: Document, out: Collector) -> models.Challenge:
    """Check a schema-valid document and build the Challenge (problems go to ``out``)."""
    data = doc.data
    if data["id"] != folder.name:
        out.add(("id",), f"id {data['id']!r} must equal the folder name {folder.name!r}")
    predictions = _predictions(data["predictions"])
    metrics = _metrics(data, predictions, out)
    phases = _phases(data["phases"], out)
    hidden = _hidden(folder, data["data"]["hidden"], out)
    if any(p.leaderboard == "private" for p in phases) and not hidden.recipient:
        out.add(
            ("data", "hidden"),
            "a phase has a private leaderboard: add data.hidden.recipient (an age1... key) "
            "so private scores can be stored encrypted until the reveal",
        )
    scoring = _optional_path(folder, data, "scoring", "file", out)
    program = _program(folder, data, predictions, out)
    if "scoring_image" in data and scoring is None:
        out.add(("scoring_image",), "scoring_image runs scoring.py: add scoring: or remove it")
    if "code" in data.get("submission_kinds", ()) and (program is None or not program.ingestion):
        out.add(
            ("submission_kinds",),
            "code submissions need an ingestion program to run them: add program.ingestion "
            "(path and command), or remove code",
        )
    public = None
    if "public" in data["data"]:
        public = _optional_path(folder, data["data"], "public", "dir", out, ("data", "public"))
    return models.Challenge(
        id=data["id"],
        title=data["title"],
        summary=data["summary"],
        root=folder,
        maintainers=tuple(data["maintainers"]),
        predictions=predictions,
        metrics=metrics,
        phases=phases,
        hidden=hidden,
        public_dir=public,
        split=_split(data.get("split", {}), out),
        submission_kinds=tuple(data.get("submission_kinds", ("predictions", "container"))),
        container=_container(data.get("container", {})),
        leaderboard=models.LeaderboardSpec(**data.get("leaderboard", {})),
        scoring=scoring,
        scoring_image=data.get("scoring_image"),
        program=program,
        sha256=_fingerprint(raw, scoring, program),
        runs_on=tuple(data.get("runs_on", ())),
    )


def _split(item: dict[str, Any], out: Collector) -> models.SplitSpec:
    if "public_fraction" in item:
        if "column" in item:
            out.add(("split",), "give either column or public_fraction, not both")
        return models.SplitSpec(None, item["public_fraction"], item.get("seed", 0))
    return models.SplitSpec(item.get("column", "split"), None, item.get("seed", 0))


def _fingerprint(raw: bytes, scoring: Path | None, program: Any = None) -> str:
    digest = hashlib.sha256(raw)
    if scoring is not None:
        digest.update(b"\0scoring.py\0" + scoring.read_bytes())
    if program is not None and program.path.is_dir():
        from runner.data.cachedir import default_cache
        from runner.data.fingerprint import folder_sha256

        # A changed scoring program makes earlier records stale, like a changed scoring.py.
        # Its folder is read again only when it changed (runner.data.fingerprint).
        cache = default_cache()
        digest.update(b"\0program\0" + folder_sha256(program.path, cache).encode())
        if program.ingestion is not None and program.ingestion.path.is_dir():
            ingestion = folder_sha256(program.ingestion.path, cache)
            digest.update(b"\0ingestion\0" + ingestion.encode())
    return digest.hexdigest()


def _program(
    folder: Path, data: dict[str, Any], predictions: models.PredictionsSpec, out: Collector
) -> Any:
    """The foreign scoring program, checked against the protocol's needs; None without."""
    item = data.get("program")
    if item is None:
        if predictions.format == "files":
            out.add(
                ("predictions", "format"), "format: files needs a scoring program: add program:"
            )
        return None
    where = ("program",)
    path = _optional_path(folder, item, "path", "dir", out, (*where, "path"))
    if item["protocol"] == "codabench" and "command" not in item:
        out.add(where, "a codabench program needs command: (its metadata's command line)")
    if "scoring" in data:
        out.add(where, "give either scoring: (scoring.py) or program:, not both")
    ingestion = None
    if "ingestion" in item:
        spec = item["ingestion"]
        found = _optional_path(folder, spec, "path", "dir", out, (*where, "ingestion", "path"))
        ingestion = models.IngestionProgram(found or folder / spec["path"], spec["command"])
        if item["protocol"] != "codabench":
            out.add((*where, "ingestion"), "an ingestion program needs protocol: codabench")
    return models.ScoringProgram(
        path=path or folder / item["path"],
        protocol=item["protocol"],
        image=item["image"],
        command=item.get("command"),
        splits=tuple(sorted(item.get("splits", {}).items())),
        phase_names=tuple(sorted(item.get("phase_names", {}).items())),
        ingestion=ingestion,
        tasks=tuple(item.get("tasks", ())),
        computed=_computed(item.get("computed", {}), data, out),
    )


def _computed(
    item: dict[str, Any], data: dict[str, Any], out: Collector
) -> tuple[tuple[str, tuple[str, tuple[str, ...]]], ...]:
    """Computed columns: each names a metric's key and combines other keys of the program."""
    keys = {m.get("key", m["name"]) for m in data["metrics"]}
    for key, spec in item.items():
        where = ("program", "computed", key)
        if key not in keys:
            out.add(where, f"no metric has key {key!r}; add the metric or remove this entry")
        if key in spec["of"]:
            out.add((*where, "of"), f"{key!r} cannot be computed from itself")
    return tuple((key, (spec["op"], tuple(spec["of"]))) for key, spec in sorted(item.items()))


def _predictions(data: dict[str, Any]) -> models.PredictionsSpec:
    columns = []
    for name, spec in data.get("columns", {}).items():
        if isinstance(spec, str):
            columns.append(models.PredictionColumn(name, spec))  # type: ignore[arg-type]  # schema
        else:
            classes = tuple(str(c) for c in spec.get("classes", ()))
            columns.append(models.PredictionColumn(name, spec["kind"], classes))
    extra = {"max_bytes": data["max_bytes"]} if "max_bytes" in data else {}
    return models.PredictionsSpec(
        data.get("id_column", ""), tuple(columns), data.get("format", "csv"), **extra
    )


def _metrics(
    data: dict[str, Any], predictions: models.PredictionsSpec, out: Collector
) -> tuple[models.MetricSpec, ...]:
    from runner import metrics as registry

    known = registry.names()
    columns = {c.name: c for c in predictions.columns}
    specs = []
    for i, item in enumerate(data["metrics"]):
        where = ("metrics", i)
        spec = models.MetricSpec(
            name=item["name"],
            column=item.get("column"),
            # A scoring program computes every metric of its challenge: they are custom.
            custom=item.get("custom", False) or "program" in data,
            higher_is_better=item.get("higher_is_better"),
            precision=item.get("precision"),
            label=item.get("label"),
            key=item.get("key"),
            range=tuple(item["range"]) if "range" in item else None,
            interval=item.get("interval", True),
        )
        if spec.range is not None and not spec.range[0] < spec.range[1]:
            out.add((*where, "range"), "range must be [low, high] with low < high")
        specs.append(spec)
        if "program" in data:
            _check_custom(item, data, out, where)
            continue
        if "column" in item and item["column"] is None:
            _check_multiclass(spec, columns, known, out, where)
            column = None
        else:
            column = _metric_column(spec, columns, out, where)
        if spec.custom:
            _check_custom(item, data, out, where)
        elif spec.name not in known:
            out.add(
                (*where, "name"),
                f"unknown metric {spec.name!r}; use one of {', '.join(known)}, "
                "or declare it custom: true and compute it in scoring.py",
            )
        elif column is not None:
            metric = registry.get_metric(spec.name)
            kind = metric.kind
            if column.kind not in _COMPATIBLE[kind] | ({"score"} if metric.rank else set()):
                out.add(
                    where,
                    f"metric {spec.name!r} needs a {kind} column, but {column.name!r} "
                    f"is a {column.kind} column",
                )
    names = [s.name for s in specs]
    for i, name in enumerate(names):
        if name in names[:i]:
            out.add(
                ("metrics", i, "name"),
                f"metric {name!r} is listed twice; scores are keyed by metric name, keep one",
            )
    return tuple(specs)


def _check_multiclass(
    spec: models.MetricSpec,
    columns: dict[str, models.PredictionColumn],
    known: list[str],
    out: Collector,
    where: tuple[str | int, ...],
) -> None:
    """``column: null``: the metric takes every column, one probability per class."""
    from runner import metrics as registry

    if spec.custom or spec.name not in known:
        return  # reported as custom or unknown elsewhere
    if not registry.get_metric(spec.name).multiclass:
        multi = ", ".join(m for m in known if registry.get_metric(m).multiclass)
        out.add((*where, "column"), f"{spec.name} scores one column; column: null is for {multi}")
    elif len(columns) < 2 or any(c.kind != "probability" for c in columns.values()):
        out.add(
            (*where, "column"),
            "column: null needs two or more prediction columns, all of kind probability "
            "(one per class; the truth has the same columns, one-hot)",
        )


def _metric_column(
    spec: models.MetricSpec,
    columns: dict[str, models.PredictionColumn],
    out: Collector,
    where: tuple[str | int, ...],
) -> models.PredictionColumn | None:
    if spec.column is None:
        if len(columns) == 1:
            return next(iter(columns.values()))
        if not spec.custom:
            out.add(
                where,
                f"say which column it scores: add column: (one of {', '.join(columns)}), or "
                "column: null for a multi-class metric over all of them",
            )
        return None
    if spec.column not in columns:
        out.add(
            (*where, "column"),
            f"column {spec.column!r} is not in predictions.columns ({', '.join(columns)})",
        )
        return None
    return columns[spec.column]


def _check_custom(
    item: dict[str, Any], data: dict[str, Any], out: Collector, where: tuple[str | int, ...]
) -> None:
    if "scoring" not in data and "program" not in data:
        out.add((*where, "custom"), "a custom metric needs scoring: scoring.py in the challenge")
    if item.get("higher_is_better") is None:  # declared in the file; the spec resolves it
        out.add(where, "a custom metric must declare higher_is_better: true or false")


def _phases(items: list[dict[str, Any]], out: Collector) -> tuple[models.Phase, ...]:
    phases: list[models.Phase] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        times: dict[str, datetime | None] = {}
        for key in ("start", "end", "reveal"):
            if key in item:
                times[key] = parse_time(item[key])
                if times[key] is None:
                    out.add(
                        ("phases", i, key),
                        f"{item[key]!r} is not a date-time with a zone; "
                        "write it like 2026-12-01T00:00:00Z",
                    )
        start, end = times.get("start"), times.get("end", models.OPEN_END)
        if None in times.values() or start is None or end is None:
            continue
        if item["id"] in seen:
            out.add(("phases", i, "id"), f"phase id {item['id']!r} is used twice")
        seen.add(item["id"])
        phase = models.Phase(
            id=item["id"],
            start=start,
            end=end,
            leaderboard=item.get("leaderboard", "public"),
            limits=models.Limits(**item.get("limits", {})),
            selection=item.get("selection"),
            reveal=times.get("reveal"),
            listed=item.get("listed", True),
        )
        _check_phase(phase, phases[-1] if phases else None, i, out)
        phases.append(phase)
    return tuple(phases)


def _check_phase(
    phase: models.Phase, previous: models.Phase | None, i: int, out: Collector
) -> None:
    if phase.end <= phase.start:
        out.add(("phases", i, "end"), "end must be after start")
    if phase.reveal is not None and phase.reveal < phase.end:
        out.add(("phases", i, "reveal"), "reveal must not be before the phase ends")
    if previous is not None and previous.open_ended:
        out.add(
            ("phases", i - 1),
            f"phase {previous.id!r} never ends (no end:), so no phase can follow it; give it "
            "an end or make it the last phase",
        )
    elif previous is not None and phase.start < previous.end:
        out.add(
            ("phases", i, "start"),
            f"phase {phase.id!r} starts before phase {previous.id!r} ends "
            f"({previous.end.isoformat()}); phases must be in order and not overlap",
        )


def _hidden(folder: Path, item: dict[str, Any], out: Collector) -> models.HiddenDataSpec:
    where = ("data", "hidden")
    demo_key = _optional_path(folder, item, "demo_key_file", "file", out, (*where, "demo_key_file"))
    spec = models.HiddenDataSpec(**{**item, "demo_key_file": demo_key})
    source = spec.source
    if source.startswith("https://"):
        if not spec.sha256:
            out.add(where, "an https:// source needs sha256: the archive's sha256")
    elif source.startswith("file://") or source.startswith("http://"):
        if source.startswith("http://"):
            out.add((*where, "source"), "use https://, not http://")
    elif source.endswith(".age"):
        _, problem = resolve_inside(folder, source, want="file")
        if problem:
            out.add((*where, "source"), problem)
        if not spec.sha256:
            out.add(
                where, "an encrypted archive needs sha256 (challenge-runner data pack prints it)"
            )
        if not spec.key_env:
            out.add(where, "an encrypted archive needs key_env: the variable holding its key")
    elif source.startswith("/") or ".." in Path(source).parts:
        out.add((*where, "source"), f"{source!r} must be relative to the challenge folder")
    return spec


def _optional_path(
    folder: Path,
    data: dict[str, Any],
    key: str,
    want: str,
    out: Collector,
    where: tuple[str | int, ...] | None = None,
) -> Path | None:
    if key not in data:
        return None
    path, problem = resolve_inside(folder, data[key], want=want)
    if problem:
        out.add(where or (key,), problem)
    return path


def check_challenge_doc(
    folder: Path, raw: bytes, doc: Document, out: Collector
) -> models.Challenge | None:
    """Schema-check then build; returns the Challenge, or None when the schema fails.

    A schema-invalid file still gets the semantic checks of its valid parts, so one run
    of ``validate`` reports everything (not a schema wave, then a semantic one).
    """
    if not out.check_schema(validator("challenge")):
        _semantic_checks_of_valid_parts(folder, doc, out)
        return None
    return build_challenge(folder, raw, doc, out)


_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def _semantic_checks_of_valid_parts(folder: Path, doc: Document, out: Collector) -> None:
    """Each part's semantic checks, skipping a part the schema already refused."""
    data = doc.data if isinstance(doc.data, dict) else {}
    scratch = Collector(out.display_path, doc)

    def check_id() -> None:
        if data["id"] != folder.name:
            scratch.add(("id",), f"id {data['id']!r} must equal the folder name {folder.name!r}")

    parts = [
        check_id,
        lambda: _phases(data["phases"], scratch),
        lambda: _hidden(folder, data["data"]["hidden"], scratch),
        lambda: _metrics(data, _predictions(data["predictions"]), scratch),
        lambda: _optional_path(folder, data, "scoring", "file", scratch),
    ]
    for part in parts:
        try:
            part()
        except _MALFORMED:
            continue  # that part is malformed: its schema problem is reported already
    # "$" (a missing required key) says nothing about the other parts: do not let it hide them.
    refused = [p.json_path for p in out.problems if p.json_path != "$"]
    for problem in scratch.problems:
        if not any(_overlaps(problem.json_path, path) for path in refused):
            out.problems.append(problem)


def _overlaps(one: str, other: str) -> bool:
    """True when one JSON path is the other or inside it (either way)."""
    shorter, longer = sorted((one, other), key=len)
    return longer == shorter or longer.startswith((shorter + ".", shorter + "["))


def _container(data: dict) -> models.ContainerSpec:
    return models.ContainerSpec(**{**data, "base_images": tuple(data.get("base_images", ()))})
