"""EvalAI challenge folders (``challenge_config.yaml``, as in EvalAI-Starters) -> challenges.

Mapping: the evaluation script (a folder or ``evaluation_script.zip``) -> ``program:``
(protocol evalai: its ``evaluate(test_annotation_file, user_submission_file,
phase_codename)`` is called unmodified); each phase's ``test_annotation_file`` -> hidden
``reference/<phase>/``; the first leaderboard's labels -> metrics (``default_order_by``
first, direction and precision from ``challenge_phase_splits``); dataset splits -> our
public split when some phase shows them publicly (visibility 3), else the private split;
the HTML templates -> README.md.

EvalAI lets phases run at the same time (participants pick one); phases here follow each
other. Phases that overlap in time become separate challenges (``<id>-<codename>``), each
with its own annotations, limits and leaderboard; phases that follow each other stay phases
of one challenge.
"""

from __future__ import annotations

from pathlib import Path

from runner.errors import ConfigError
from runner.importers.common import (
    UNKNOWN_DATE,
    Draft,
    close_open_phases,
    metric_name,
    page_text,
    parse_date,
    phase_limits,
    read_yaml,
    slug,
)

MARKER = "challenge_config.yaml"
PUBLIC_VISIBILITY = 3  # EvalAI: 1 host only, 2 owner and host, 3 public
_TEMPLATES = (
    ("description", "Overview"),
    ("evaluation_details", "Evaluation"),
    ("submission_guidelines", "How to submit"),
    ("terms_and_conditions", "Terms"),
)


def read_bundle(
    root: Path, work: Path, *, challenge_id: str | None = None, image: str | None = None
) -> list[Draft]:
    """One draft per group of phases that follow each other (see the module docstring)."""
    config = read_yaml(root / MARKER)
    base = challenge_id or slug(config.get("title", root.name), 50)
    program = _program_dir(root, config, work)
    groups = _sequential_groups(config.get("challenge_phases") or [], base)
    drafts = []
    for suffix, phases in groups:
        draft = Draft(f"{base}-{suffix}" if suffix else base, {}, program_name="evaluation_script")
        _fill(draft, root, config, phases, program, image)
        if suffix:
            draft.note(
                f"EvalAI phase {phases[0].get('codename')!r} runs at the same time as another "
                f"phase: imported as its own challenge {draft.id!r}"
            )
        drafts.append(draft)
    return drafts


def _fill(
    draft: Draft, root: Path, config: dict, phases: list[dict], program: Path, image: str | None
) -> None:
    splits = _splits(config, phases)
    draft.data = {
        "id": draft.id,
        "title": str(config.get("title") or draft.id)[:120],
        "summary": " ".join(str(config.get("short_description") or "").split())[:500]
        or "Imported from EvalAI.",
        "maintainers": ["TODO-maintainer-login"],
        "predictions": {"format": "files"},
        "metrics": _metrics(config, phases, draft),
        "phases": [_phase(root, phase, splits, draft) for phase in phases],
        "submission_kinds": ["predictions"],
        "program": {
            "path": "evaluation_script",
            "protocol": "evalai",
            "image": image or "python:3.11-slim",
            "splits": splits,
        },
    }
    close_open_phases(draft)
    names = {slug(p.get("codename", ""), 32): str(p.get("codename")) for p in phases}
    if any(ours != theirs for ours, theirs in names.items()):
        draft.data["program"]["phase_names"] = names
    draft.program_dir = program
    draft.note("maintainers: set your GitHub login(s) in challenge.yaml")
    for key, heading in _TEMPLATES:
        if config.get(key) and (root / str(config[key])).is_file():
            draft.readme.append((heading, page_text(root / str(config[key]))))
    if config.get("remote_evaluation") or config.get("is_docker_based"):
        draft.note("remote or Docker-based evaluation is not imported: result files only")


def _program_dir(root: Path, config: dict, work: Path) -> Path:
    name = str(config.get("evaluation_script") or "evaluation_script")
    path = root / name
    if path.is_dir():
        return path
    folder = root / "evaluation_script"
    if folder.is_dir():
        return folder
    if path.is_file():
        from runner.program import unzip

        target = work / "evaluation_script"
        target.mkdir()
        unzip(path, target)
        inner = target / "evaluation_script"
        return inner if inner.is_dir() else target
    raise ConfigError(f"{root}: no evaluation script ({name}, or an evaluation_script/ folder)")


def _sequential_groups(phases: list[dict], base: str) -> list[tuple[str, list[dict]]]:
    """Phases that follow each other in time stay together; an overlapping one is split off."""
    ordered = sorted(phases, key=lambda p: str(p.get("start_date")))
    groups: list[tuple[str, list[dict]]] = []
    for phase in ordered:
        for _, members in groups:
            if str(members[-1].get("end_date")) <= str(phase.get("start_date")):
                members.append(phase)
                break
        else:
            suffix = "" if not groups else slug(phase.get("codename", len(groups)), 12)
            groups.append((suffix, [phase]))
    return groups


def _splits(config: dict, phases: list[dict]) -> dict[str, str]:
    ids = {p.get("id") for p in phases}
    names = {s.get("id"): str(s.get("codename")) for s in config.get("dataset_splits") or []}
    splits: dict[str, str] = {}
    for link in config.get("challenge_phase_splits") or []:
        if link.get("challenge_phase_id") not in ids:
            continue
        name = names.get(link.get("dataset_split_id"))
        if name is None:
            continue
        public = link.get("visibility") == PUBLIC_VISIBILITY
        splits[name] = "public" if public or splits.get(name) == "public" else "private"
    return splits


def _metrics(config: dict, phases: list[dict], draft: Draft) -> list[dict]:
    boards = config.get("leaderboard") or []
    if not boards:
        raise ConfigError("challenge_config.yaml has no leaderboard: nothing names the scores")
    schema = boards[0].get("schema") or {}
    labels = [str(label) for label in schema.get("labels") or []]
    first = str(schema.get("default_order_by") or (labels[0] if labels else ""))
    labels = sorted(labels, key=lambda label: label != first)
    ids = {p.get("id") for p in phases}
    links = [
        s for s in config.get("challenge_phase_splits") or [] if s.get("challenge_phase_id") in ids
    ]
    descending = all(s.get("is_leaderboard_order_descending", True) for s in links)
    precisions = {s.get("leaderboard_decimal_precision") for s in links} - {None}
    metrics = []
    for label in labels:
        metric: dict[str, object] = {"name": metric_name(label), "key": label, "label": label}
        metric["higher_is_better"] = bool(descending)
        if len(precisions) == 1:
            metric["precision"] = min(max(int(next(iter(precisions))), 0), 12)
        metrics.append(metric)
    if len(boards) > 1:
        draft.note(f"{len(boards) - 1} leaderboard(s) after the first were not imported")
    return metrics


def _phase(root: Path, phase: dict, splits: dict[str, str], draft: Draft) -> dict:
    phase_id = slug(phase.get("codename") or phase.get("name") or "phase", 32)
    where = f"phase {phase.get('name', phase_id)!r}"
    start = parse_date(phase.get("start_date"), f"{where} start", draft) or UNKNOWN_DATE
    end = (
        parse_date(phase.get("end_date"), f"{where} end", draft) if phase.get("end_date") else None
    )
    item: dict = {"id": phase_id, "start": start}
    if end is not None:
        item["end"] = end
    item["leaderboard"] = "public" if "public" in splits.values() else "private"
    if limits := phase_limits(phase):
        item["limits"] = limits
    if phase.get("max_submissions_per_month"):
        draft.note(f"{where}: max_submissions_per_month has no equivalent here")
    if phase.get("is_public") is False:
        item["listed"] = False  # the site does not show it, as EvalAI did not
    annotation = phase.get("test_annotation_file")
    if annotation and (root / str(annotation)).is_file():
        path = root / str(annotation)
        draft.reference.append((path, f"{phase_id}/{path.name}"))
    else:
        draft.note(f"{where}: test_annotation_file {annotation!r} not found in the bundle")
    return item
