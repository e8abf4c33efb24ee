"""Score a submission with a challenge's foreign scoring program, run unmodified.

Challenges imported from Codabench or EvalAI (``runner.importers``) keep their original
scoring program. It is trusted maintainer code, but it parses participant files (a crafted
``.npy`` or pickle could take it over), so it runs in the sandbox of DESIGN §5: no network,
read-only, unprivileged, limits of ``challenge.container``. It sees only the phase's
reference data and the submission, laid out as its platform laid them out (``adapter.py``).

Outcomes: the program's scores for every metric -> ``scored``; the program failing, timing
out or leaving a metric out -> ``invalid`` (counted: the participant's file is the usual cause,
and an uncounted outcome would be a free probe); the engine failing -> ``error``. The
program's output may quote the reference data: it goes only to the sealed maintainer detail.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from runner.errors import DataError
from runner.models import Challenge, ScoringProgram
from runner.program.outcome import FAILED, ProgramOutcome
from runner.program.scores import computed_scores, read_rows, read_scores, scores_from
from runner.sandbox.spec import CODABENCH_LAYOUT, SANDBOX_LAYOUT, Layout

ADAPTER = Path(__file__).with_name("adapter.py")
WRITABLE_RES = "/tmp/challenge-runner-res"  # noqa: S108 (inside the container)
MAX_UNZIPPED = 1 << 30  # a submission zip may not unpack past 1 GiB
MAX_MEMBERS = 10_000


def reference_folder(reference: Path, phase_id: str | None) -> Path:
    """The phase's reference data: ``reference/<phase>/`` when it exists, else ``reference/``."""
    if phase_id and (reference / phase_id).is_dir():
        return reference / phase_id
    return reference


def stage(
    challenge: Challenge,
    reference: Path,
    submission_file: Path,
    target: Path,
    *,
    only: str | None = None,
) -> None:
    """Lay out ``target`` as the program's input folder: ref/, res/ (a link the adapter
    makes writable) and the adapter, plus
    evaluation_script/ for EvalAI (a Codabench program is mounted on its own, read-only,
    at Codabench's /app/program). ``only``: res/ gets just that folder of the zip (one
    task's part of a code submission's output)."""
    program = challenge.program
    assert program is not None
    target.mkdir(mode=0o755)
    copy_tree(reference, target / "ref")
    files = target / "res-files"
    files.mkdir(mode=0o755)
    if zipfile.is_zipfile(submission_file):
        unzip(submission_file, files, only=only)
    else:
        copy_file(submission_file, files / submission_file.name)
    # res/ is writable in the container, as on Codabench: the adapter copies res-files/ to
    # where this link points, in the container's capped /tmp (never a host path).
    (target / "res").symlink_to(WRITABLE_RES)
    if program.protocol == "evalai":
        copy_tree(program.path, target / "evaluation_script")
    copy_file(ADAPTER, target / "adapter.py")


def layout(program: ScoringProgram) -> Layout:
    """Codabench programs may hard-code its worker's paths (/app/input/ref, /app/output)."""
    return CODABENCH_LAYOUT if program.protocol == "codabench" else SANDBOX_LAYOUT


def command(program: ScoringProgram, phase_id: str | None) -> list[str]:
    """The adapter's command line: protocol, the codabench command or the evalai phase
    codename, then where the input, output and program folders are mounted."""
    if program.protocol == "codabench":
        argument = program.command or ""
    else:
        argument = program.codename(phase_id or "")
    where = layout(program)
    adapter = f"{where.input}/adapter.py"
    return [
        "python3",
        adapter,
        program.protocol,
        argument,
        where.input,
        where.output,
        where.submission,
    ]


def run_program(
    challenge: Challenge,
    reference: Path,
    submission_file: Path,
    phase_id: str | None,
    work_dir: Path,
    *,
    unsafe: bool = False,
    output_per_task: bool = False,
) -> ProgramOutcome:
    """Run the challenge's program on one submission; never raises for the participant's file.

    With ``program.tasks`` it runs once per task, on ``reference/<phase>/<task>/``, and the
    scores are keyed ``<task>/<key>``; ``output_per_task``: the submission is a code
    submission's output, whose ``<task>/`` folder is each task's res/ (else every task scores
    the same file, as on Codabench).
    """
    program = challenge.program
    assert program is not None
    found: dict[tuple[str, str], float] = {}
    details = []
    folder = reference_folder(reference, phase_id)
    for task in program.tasks:
        if not (folder / task).is_dir():  # the maintainer's data, not the participant's file
            where = f"{folder.name}/{task}"
            return ProgramOutcome("error", f"the hidden data holds no reference data {where}/")
    for task in program.tasks or ("",):
        got = _run_once(
            challenge, folder / task if task else folder, submission_file, phase_id,
            work_dir / (task or "program"), unsafe, task if output_per_task and task else None,
        )  # fmt: skip
        if isinstance(got, ProgramOutcome):
            return got
        rows, detail = got
        details.append(f"--- task {task} ---\n{detail}" if task else detail)
        found |= {(split, f"{task}/{key}" if task else key): v for (split, key), v in rows.items()}
    return scores_from(challenge, found, "\n".join(details))


def _run_once(
    challenge: Challenge,
    reference: Path,
    submission_file: Path,
    phase_id: str | None,
    work_dir: Path,
    unsafe: bool,
    only: str | None,
) -> ProgramOutcome | tuple[dict[tuple[str, str], float], str]:
    """One run of the program: the rows it scored and its detail, or the outcome that ends
    the evaluation."""
    from runner.sandbox import run_submission

    program = challenge.program
    assert program is not None
    work_dir.mkdir(mode=0o755)
    staged = work_dir / "program-input"
    try:
        stage(challenge, reference, submission_file, staged, only=only)
    except DataError as err:
        return ProgramOutcome("invalid", err.message, err.detail or "")
    outcome = run_submission(
        program.image,
        command(program, phase_id),
        input_dir=staged,
        submission_dir=program.path if program.protocol == "codabench" else None,
        work_dir=work_dir,
        limits=challenge.container,
        unsafe=unsafe,
        layout=layout(program),
    )
    if outcome.status == "error":
        return ProgramOutcome("error", outcome.message, outcome.detail)
    if outcome.status != "ok" or outcome.predictions is None:
        return ProgramOutcome("invalid", f"{FAILED} ({outcome.status})", outcome.detail)
    return read_rows(outcome.predictions), outcome.detail


__all__ = ["FAILED", "ProgramOutcome", "computed_scores", "read_scores"]


def run_program_in_temp(
    challenge: Challenge,
    reference: Path,
    predictions: Path,
    phase_id: str | None,
    unsafe: bool = False,
    output_per_task: bool = False,
) -> ProgramOutcome:
    """``run_program`` in a private temporary folder, removed afterwards."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="challenge-runner-program-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the container's unprivileged user reads the staged input under it
        return run_program(
            challenge, reference, predictions, phase_id, work, unsafe=unsafe,
            output_per_task=output_per_task,
        )  # fmt: skip


def unzip(archive: Path, target: Path, *, only: str | None = None) -> None:
    """Unpack a submission zip safely: files and folders only, inside ``target``, capped.
    ``only``: just the members under that top folder, unpacked without it."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > MAX_MEMBERS:
                raise DataError(f"the submission zip holds over {MAX_MEMBERS} files")
            if sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise DataError("the submission zip unpacks to more than 1 GiB")
            for member in members:
                _unzip_member(bundle, member, target, only)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DataError(f"the submission zip cannot be read ({err}); zip it again") from err


def _unzip_member(
    bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, only: str | None
) -> None:
    parts = [p for p in PurePosixPath(member.filename.replace("\\", "/")).parts if p != "."]
    if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
        raise DataError(f"the submission zip member {member.filename!r} leaves its folder")
    if only is not None:
        if parts[0] != only or len(parts) == 1:
            return
        parts = parts[1:]
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DataError(f"the submission zip member {member.filename!r} is a link")
    path = target.joinpath(*parts)
    if member.is_dir():
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
        return
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    with bundle.open(member) as source, path.open("xb") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
    path.chmod(0o644)


def copy_tree(source: Path, target: Path) -> None:
    """Copy without following links, readable by the container's unprivileged user."""
    target.mkdir(mode=0o755)
    for entry in sorted(source.iterdir()):
        if entry.is_symlink():
            raise DataError(f"{entry} is a symbolic link; only files and folders are copied")
        if entry.is_dir():
            copy_tree(entry, target / entry.name)
        elif entry.is_file():
            copy_file(entry, target / entry.name)


def copy_file(source: Path, target: Path) -> None:
    shutil.copyfile(source, target, follow_symlinks=False)
    target.chmod(0o644)
