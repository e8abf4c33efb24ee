"""Run a code submission: the challenge's ingestion program around the participant's code.

Codabench runs a code submission by running the task's ingestion program in the
competition's image, laid out as its compute worker lays it out (programs hard-code these):

    /app/program            the ingestion program (trusted maintainer code)
    /app/ingested_program   the participant's code (their folder, or their zip unpacked)
    /app/input_data         the task's input data: here the phase's hidden *inputs*
    /app/output             what it writes; all of it becomes the scoring program's res/

Here this is one sandboxed run (DESIGN §5) like a container submission: the participant's
code runs inside the ingestion program's process, so the whole run is participant code. It
sees the hidden inputs and never the reference data (``$hidden`` points nowhere); its
output leaves the sandbox as a zip (``collect_folder``) that the score step hands to the
scoring program (``runner.program.stage`` unpacks it into res/).

``/app`` itself is a read-only folder staged per run holding the program and the code,
with the inputs (read-only) and the size-capped output mounted inside it.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import DataError
from runner.program import ADAPTER, copy_file, copy_tree, unzip
from runner.sandbox.spec import Layout

if TYPE_CHECKING:
    from runner.models import Challenge, Submission
    from runner.progress import Progress
    from runner.sandbox.run import RunOutcome

APP = "/app"
# input = the hidden inputs, submission = the staged /app, output = the capped /app/output.
INGESTION_LAYOUT = Layout(f"{APP}/input_data", APP, f"{APP}/output")
ADAPTER_DIR = "challenge-runner"


def phase_inputs(inputs: Path, phase_id: str | None) -> Path:
    """The phase's inputs: ``inputs/<phase>/`` when it exists (an import of a bundle whose
    phases have their own input data), else ``inputs/``."""
    if phase_id and (inputs / phase_id).is_dir() and not (inputs / phase_id).is_symlink():
        return inputs / phase_id
    return inputs


def stage_app(challenge: Challenge, code: Path, target: Path) -> None:
    """Lay out ``target`` as /app: program/, ingested_program/, the adapter, and the empty
    folders the inputs and the output are mounted on."""
    program = challenge.program
    assert program is not None and program.ingestion is not None  # the loader guarantees it
    target.mkdir(mode=0o755)
    copy_tree(program.ingestion.path, target / "program")
    if code.is_dir():
        copy_tree(code, target / "ingested_program")
    elif zipfile.is_zipfile(code):
        (target / "ingested_program").mkdir(mode=0o755)
        unzip(code, target / "ingested_program")
    else:
        raise DataError(f"{code.name} is not a zip file; zip your code again or commit a folder")
    for mount_point in ("input_data", "output"):
        (target / mount_point).mkdir(mode=0o755)
    (target / ADAPTER_DIR).mkdir(mode=0o755)
    copy_file(ADAPTER, target / ADAPTER_DIR / "adapter.py")


def command(challenge: Challenge) -> list[str]:
    """The adapter's command line for the ingestion step."""
    program = challenge.program
    assert program is not None and program.ingestion is not None
    where = INGESTION_LAYOUT
    return [
        "python3",
        f"{APP}/{ADAPTER_DIR}/adapter.py",
        "ingestion",
        program.ingestion.command,
        where.input,
        where.output,
        f"{APP}/program",
    ]


def run_code(
    challenge: Challenge,
    submission: Submission,
    inputs: Path,
    work_dir: Path,
    *,
    now: datetime | None = None,
    unsafe: bool = False,
    progress: Progress | None = None,
    public_inputs: bool = False,
) -> RunOutcome:
    """Run ``submission``'s code through the ingestion program on the phase's inputs at
    ``now``; the outcome's ``predictions`` is the zip of everything it wrote. With
    ``program.tasks``, one run per task on its own inputs; the zip holds ``<task>/...``."""
    from runner.sandbox import run_submission
    from runner.sandbox.run import RunOutcome

    program = challenge.program
    assert program is not None and submission.code is not None
    phase = challenge.phase_at(now or datetime.now(UTC))
    folder = phase_inputs(inputs, phase.id if phase else None)
    for task in program.tasks:
        if not (folder / task).is_dir():  # the maintainer's data, not the participant's code
            return RunOutcome("error", f"the hidden inputs hold no {folder.name}/{task}/")
    app = work_dir / "app"  # read-only in every run: staged once for all tasks
    try:
        stage_app(challenge, submission.code, app)
    except DataError as err:
        return RunOutcome("invalid", err.message, err.detail or "")
    outcomes = []
    for task in program.tasks or ("",):
        work = work_dir / (task or "code")
        work.mkdir(mode=0o755)
        outcome = run_submission(
            program.image, command(challenge), input_dir=folder / task if task else folder,
            submission_dir=app, work_dir=work, limits=challenge.container,
            unsafe=unsafe, progress=progress, layout=INGESTION_LAYOUT,
            public_inputs=public_inputs, whole_output=True,
        )  # fmt: skip
        if outcome.status != "ok" or not task:
            return replace(outcome, message=f"{task}: {outcome.message}") if task else outcome
        outcomes.append((task, outcome))
    merged = _merge([(task, got.predictions) for task, got in outcomes], work_dir)
    last = outcomes[-1][1]
    return replace(
        last,
        predictions=merged,
        duration_s=sum(got.duration_s for _, got in outcomes),
        detail="\n".join(f"--- task {task} ---\n{got.detail}" for task, got in outcomes),
    )


def _merge(parts: list[tuple[str, Path | None]], work_dir: Path) -> Path:
    """One zip of the tasks' output zips, each under its task's folder."""
    target = work_dir / "output.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as merged:
        for task, part in parts:
            assert part is not None  # an "ok" run has its output
            with zipfile.ZipFile(part) as bundle:
                for info in bundle.infolist():
                    entry = zipfile.ZipInfo(f"{task}/{info.filename}", date_time=info.date_time)
                    with bundle.open(info) as source, merged.open(entry, "w") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
    return target
