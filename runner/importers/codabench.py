"""Codabench (``competition.yaml`` version 2) bundles -> a challenge folder.

Mapping: phases -> phases (dates, per-day and total limits; a phase with no end never ends,
one with ``max_submissions_per_day: 0`` is closed to new submissions); each
phase's task -> its reference data under hidden ``reference/<phase>/`` and its input data
under hidden ``inputs/``; the task's scoring program -> ``program:`` (protocol codabench, its
metadata's command, the bundle's ``docker_image``); the first leaderboard's columns -> metrics
(key, title as label, sorting as direction, precision); pages and terms -> README.md; each
phase's ``public_data`` and the ``starting_kit`` -> public/; the longest
``execution_time_limit`` -> the container's time limit. A task's ingestion program makes a
code-submission challenge: ``program.ingestion`` (its metadata's command) and
``submission_kinds: [code]``; each phase's input data goes under hidden ``inputs/<phase>/``
when phases differ in it (else ``inputs/``). An ingestion program that runs during scoring
(``ingestion_only_during_scoring``) would give participant code the reference data: refused.
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

MARKER = "competition.yaml"
MAX_TIMEOUT_S = 86_400  # challenge.yaml's container.timeout_s caps one run at a day


def read_bundle(root: Path, *, challenge_id: str | None = None, image: str | None = None) -> Draft:
    config = read_yaml(root / MARKER)
    if str(config.get("version", "1")) != "2":
        raise ConfigError(
            f"{root / MARKER}: only Codabench bundles (version: 2) are supported; convert a "
            "CodaLab (version 1) bundle with Codabench's bundle converter first"
        )
    draft = Draft(challenge_id or slug(config.get("title", root.name)), {})
    tasks = {task.get("index"): task for task in config.get("tasks") or []}
    per_phase = _tasks_per_phase(config, tasks)
    draft.data = {
        "id": draft.id,
        "title": str(config.get("title") or draft.id)[:120],
        "summary": _summary(config),
        "maintainers": ["TODO-maintainer-login"],
        "predictions": {"format": "files"},
        "metrics": _metrics(config, draft, per_phase),
        "phases": [],
        "submission_kinds": ["predictions"],
        "leaderboard": {"best_of": "participant"},
    }
    draft.note("maintainers: set your GitHub login(s) in challenge.yaml")
    inputs: dict[tuple[str, str], Path] = {}
    for index, phase in enumerate(config.get("phases") or []):
        _phase(root, phase, index, tasks, draft, inputs, per_phase)
    _inputs(inputs, draft)
    close_open_phases(draft)
    _program(root, config, tasks, draft, image)
    if per_phase:
        draft.data["program"]["tasks"] = [f"task{i}" for i in range(1, per_phase + 1)]
    _pages(root, config, draft)
    if (root / "starting_kit").is_dir():
        draft.public.append((root / "starting_kit", "starting_kit"))
    return draft


def _summary(config: dict) -> str:
    text = " ".join(str(config.get("description") or config.get("title") or "").split())
    return (text or "Imported from Codabench.")[:500]


def _tasks_per_phase(config: dict, tasks: dict) -> int:
    """How many tasks each phase runs, when every phase runs the same number (2 or more):
    each evaluation then runs once per task. 0 otherwise (one task per phase)."""
    counts = {len(phase.get("tasks") or []) for phase in config.get("phases") or []}
    return counts.pop() if len(counts) == 1 and min(counts) >= 2 else 0


def _metrics(config: dict, draft: Draft, per_phase: int = 0) -> list[dict]:
    boards = config.get("leaderboards") or []
    if not boards:
        raise ConfigError("the bundle has no leaderboards: nothing says what the scores are")
    if len(boards) > 1:
        draft.note(f"{len(boards) - 1} leaderboard(s) after the first were not imported")
    columns = sorted(boards[0].get("columns") or [], key=lambda c: c.get("index", 0))
    metrics = []
    for column in columns:
        key = str(column.get("key"))
        metric: dict[str, object] = {
            "name": metric_name(key),
            "key": key,
            "label": str(column.get("title", key)),
        }
        metric["higher_is_better"] = str(column.get("sorting", "desc")).lower() != "asc"
        if isinstance(column.get("precision"), int):
            metric["precision"] = min(max(column["precision"], 0), 12)
        metrics.append(metric)
    _computed(columns, draft)
    return _per_task(config, metrics, draft, per_phase) if per_phase else metrics


def _per_task(config: dict, metrics: list[dict], draft: Draft, per_phase: int) -> list[dict]:
    """Every column once per task (``task<i>/<key>``), task by task as Codabench shows them;
    the first task's first column ranks."""
    first = (config.get("phases") or [{}])[0].get("tasks") or []
    names = {t.get("index"): t.get("name") for t in config.get("tasks") or []}
    expanded = []
    for i in range(1, per_phase + 1):
        title = names.get(first[i - 1]) if i <= len(first) else None
        for metric in metrics:
            key = f"task{i}/{metric['key']}"
            label = f"{metric['label']} ({title or f'task {i}'})"
            expanded.append({**metric, "name": metric_name(f"{metric['key']}_task{i}"),
                             "key": key, "label": label[:64]})  # fmt: skip
    draft.computed = {
        f"task{i}/{key}": {"op": spec["op"], "of": [f"task{i}/{k}" for k in spec["of"]]}
        for i in range(1, per_phase + 1)
        for key, spec in draft.computed.items()
    }
    draft.note(
        f"each phase runs {per_phase} tasks: every column is scored per task "
        f"(task1/... to task{per_phase}/...); the board ranks by the first task's "
        f"{metrics[0]['key']!r}"
    )
    return expanded


def _computed(columns: list[dict], draft: Draft) -> None:
    """Columns Codabench computes from others (``computation`` over ``computation_indexes``)."""
    by_index = {column.get("index"): str(column.get("key")) for column in columns}
    computed = {}
    for column in columns:
        op = str(column.get("computation") or "").lower()
        if not op:
            continue
        key = str(column.get("key"))
        indexes = column.get("computation_indexes") or []
        if isinstance(indexes, str):
            indexes = [int(i) for i in indexes.split(",") if i.strip().isdigit()]
        keys = [by_index[i] for i in indexes if i in by_index and by_index[i] != key]
        if op not in ("avg", "sum", "min", "max") or not keys:
            draft.note(f"column {key!r}: computation {op!r} over {indexes} cannot be computed")
            continue
        computed[key] = {"op": op, "of": keys}
    if computed:
        draft.computed = computed


def _phase(
    root: Path,
    phase: dict,
    index: int,
    tasks: dict,
    draft: Draft,
    inputs: dict[tuple[str, str], Path],
    per_phase: int,
) -> None:
    phase_id = slug(phase.get("name") or f"phase-{index}", 32)
    where = f"phase {phase.get('name', index)!r}"
    start = parse_date(phase.get("start"), f"{where} start", draft)
    end = parse_date(phase["end"], f"{where} end", draft) if phase.get("end") else None
    item: dict = {"id": phase_id, "start": start or UNKNOWN_DATE}
    if end is not None:
        item["end"] = end  # no end: the phase never ends, here as there
    if limits := phase_limits(phase):
        item["limits"] = limits
    draft.data["phases"].append(item)
    phase_tasks = phase.get("tasks") or []
    if len(phase_tasks) > 1 and not per_phase:
        draft.note(f"{where} has {len(phase_tasks)} tasks; only the first is scored here")
    for number, index_ in enumerate(phase_tasks[: per_phase or 1], start=1):
        task = tasks.get(index_)
        name = f"task{number}" if per_phase else ""
        if task is None:
            draft.note(f"{where}: task {index_!r} is not defined: it has no reference data")
            continue
        if task.get("reference_data"):
            where_ref = f"{phase_id}/{name}" if name else phase_id
            draft.reference.append((root / task["reference_data"], where_ref))
        if task.get("input_data"):
            inputs[(phase_id, name)] = root / task["input_data"]
    if not phase_tasks:
        draft.note(f"{where} has no task: it has no reference data")
    limit = phase.get("execution_time_limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        if limit > MAX_TIMEOUT_S:
            draft.note(f"{where}: execution_time_limit {limit} s is cut to {MAX_TIMEOUT_S} s")
        container = draft.data.setdefault("container", {})
        timeout = max(container.get("timeout_s", 0), min(limit, MAX_TIMEOUT_S))
        container["timeout_s"] = timeout
    if phase.get("public_data"):
        draft.public.append((root / phase["public_data"], phase_id))


def _inputs(inputs: dict[tuple[str, str], Path], draft: Draft) -> None:
    """inputs/[<task>/] when every phase reads the same input data (per task), else
    inputs/<phase>/[<task>/] each (the ingest step mounts the folder of the phase it runs in,
    and of the task)."""
    phases = sorted({phase for phase, _ in inputs})
    tasks = sorted({task for _, task in inputs})
    shared = all(
        len({inputs[(p, t)].resolve() for p in phases if (p, t) in inputs}) == 1 for t in tasks
    )
    for (phase_id, task), path in inputs.items():
        if shared and phase_id != phases[0]:
            continue
        where = task if shared else f"{phase_id}/{task}" if task else phase_id
        draft.inputs.append((path, where or "."))


def _program(root: Path, config: dict, tasks: dict, draft: Draft, image: str | None) -> None:
    folders = sorted({str(t.get("scoring_program")) for t in tasks.values() if t})
    if not folders or folders == ["None"]:
        raise ConfigError("no task names a scoring_program: there is nothing to score with")
    if len(folders) > 1:
        draft.note(f"tasks use different scoring programs {folders}; the first is used")
    folder = root / folders[0]
    draft.program_dir = folder
    draft.data["program"] = {
        "path": "scoring_program",
        "protocol": "codabench",
        "image": image or str(config.get("docker_image") or "codalab/codalab-legacy:py39"),
        "command": _command(folder),
    }
    if draft.computed:
        draft.data["program"]["computed"] = draft.computed
    _ingestion(root, tasks, draft)


def _ingestion(root: Path, tasks: dict, draft: Draft) -> None:
    """A task's ingestion program: participants submit code, which it runs."""
    folders = sorted(
        {str(t["ingestion_program"]) for t in tasks.values() if t.get("ingestion_program")}
    )
    if not folders:
        return
    if any(t.get("ingestion_only_during_scoring") for t in tasks.values()):
        raise ConfigError(
            "a task sets ingestion_only_during_scoring: its ingestion program runs the "
            "participant's code with the reference data (the truth) mounted, which this "
            "platform never allows; give the ingestion program its own input_data instead"
        )
    if len(folders) > 1:
        draft.note(f"tasks use different ingestion programs {folders}; the first is used")
    folder = root / folders[0]
    draft.ingestion_dir = folder
    draft.data["program"]["ingestion"] = {"path": "ingestion_program", "command": _command(folder)}
    draft.data["submission_kinds"] = ["predictions", "code"]  # result files too, as there


def _command(folder: Path) -> str:
    for name in ("metadata.yaml", "metadata"):
        if (folder / name).is_file():
            command = read_yaml(folder / name).get("command")
            if command:
                return str(command)
    raise ConfigError(f"{folder}: no metadata(.yaml) with a command: line")


def _pages(root: Path, config: dict, draft: Draft) -> None:
    for page in config.get("pages") or []:
        path = root / str(page.get("file"))
        if path.is_file():
            draft.readme.append((str(page.get("title") or path.stem), page_text(path)))
    if config.get("terms") and (root / str(config["terms"])).is_file():
        draft.readme.append(("Terms", page_text(root / str(config["terms"]))))
