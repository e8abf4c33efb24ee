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

import csv
import math
import shutil
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from runner.errors import DataError
from runner.models import Challenge, ScoringProgram
from runner.sandbox.spec import CODABENCH_LAYOUT, SANDBOX_LAYOUT, Layout

ADAPTER = Path(__file__).with_name("adapter.py")
MAX_UNZIPPED = 1 << 30  # a submission zip may not unpack past 1 GiB
MAX_MEMBERS = 10_000
FAILED = (
    "the challenge's scoring program could not score this submission; check its files "
    "against the challenge's submission instructions"
)


@dataclass(frozen=True)
class ProgramOutcome:
    """``status`` is scored, invalid or error; ``scores`` maps split -> metric -> value."""

    status: str
    message: str
    detail: str = ""
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def reference_folder(reference: Path, phase_id: str | None) -> Path:
    """The phase's reference data: ``reference/<phase>/`` when it exists, else ``reference/``."""
    if phase_id and (reference / phase_id).is_dir():
        return reference / phase_id
    return reference


def stage(challenge: Challenge, reference: Path, submission_file: Path, target: Path) -> None:
    """Lay out ``target`` as the program's input folder: ref/, res/ and the adapter, plus
    evaluation_script/ for EvalAI (a Codabench program is mounted on its own, read-only,
    at Codabench's /app/program)."""
    program = challenge.program
    assert program is not None
    target.mkdir(mode=0o755)
    copy_tree(reference, target / "ref")
    (target / "res").mkdir(mode=0o755)
    if zipfile.is_zipfile(submission_file):
        unzip(submission_file, target / "res")
    else:
        copy_file(submission_file, target / "res" / submission_file.name)
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
) -> ProgramOutcome:
    """Run the challenge's program on one submission; never raises for the participant's file."""
    from runner.sandbox import run_submission

    program = challenge.program
    assert program is not None
    staged = work_dir / "program-input"
    try:
        stage(challenge, reference_folder(reference, phase_id), submission_file, staged)
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
    return read_scores(challenge, outcome.predictions, outcome.detail)


def run_program_in_temp(
    challenge: Challenge,
    reference: Path,
    predictions: Path,
    phase_id: str | None,
    unsafe: bool = False,
) -> ProgramOutcome:
    """``run_program`` in a private temporary folder, removed afterwards."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="challenge-runner-program-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the container's unprivileged user reads the staged input under it
        return run_program(challenge, reference, predictions, phase_id, work, unsafe=unsafe)


def read_scores(challenge: Challenge, path: Path, detail: str = "") -> ProgramOutcome:
    """The adapter's ``split,key,value`` rows as scores per split for each metric."""
    program = challenge.program
    assert program is not None
    found: dict[tuple[str, str], float] = {}
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            value = _number(row.get("value"))
            if value is not None:
                found[(row.get("split") or "", row.get("key") or "")] = value
    found |= computed_scores(program.computed, found)
    scores: dict[str, dict[str, float]] = {}
    missing = []
    for spec in challenge.metrics:
        key = spec.key or spec.name
        hits = [(split, v) for (split, k), v in found.items() if k == key]
        if not hits:
            missing.append(key)
        for split, value in hits:
            ours = program.split_of(split) if split else "public"
            if ours:
                scores.setdefault(ours, {})[spec.name] = value
    if missing:
        note = f"scores missing from the program's output: {', '.join(missing)}\n{detail}"
        return ProgramOutcome("invalid", FAILED, note)
    return ProgramOutcome("scored", "scored", detail, scores)


COMPUTE: dict[str, Callable[[list[float]], float]] = {
    "avg": lambda values: math.fsum(values) / len(values),
    "sum": math.fsum,
    "min": min,
    "max": max,
}


def computed_scores(
    computed: tuple[tuple[str, tuple[str, tuple[str, ...]]], ...],
    found: dict[tuple[str, str], float],
) -> dict[tuple[str, str], float]:
    """Codabench's computed columns, per split, from the scores the program wrote: a column
    is computed where every score it combines is there (else it stays missing)."""
    splits = {split for split, _ in found}
    extra = {}
    for key, (op, keys) in computed:
        for split in splits:
            values = [found.get((split, k)) for k in keys]
            if all(v is not None for v in values):
                extra[(split, key)] = COMPUTE[op]([v for v in values if v is not None])
    return extra


def _number(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def unzip(archive: Path, target: Path) -> None:
    """Unpack a submission zip safely: files and folders only, inside ``target``, capped."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > MAX_MEMBERS:
                raise DataError(f"the submission zip holds over {MAX_MEMBERS} files")
            if sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise DataError("the submission zip unpacks to more than 1 GiB")
            for member in members:
                _unzip_member(bundle, member, target)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DataError(f"the submission zip cannot be read ({err}); zip it again") from err


def _unzip_member(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> None:
    parts = [p for p in PurePosixPath(member.filename.replace("\\", "/")).parts if p != "."]
    if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
        raise DataError(f"the submission zip member {member.filename!r} leaves its folder")
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
