"""Files -> typed objects. Every problem in every file is collected, never just the first.

``load_*`` raise ``ValidationFailed`` (a ``ConfigError``) listing every problem of the file;
``load_repo`` never raises for bad files: it returns what loaded and the problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner import models
from runner.loader.challenge import check_challenge_doc, parse_time
from runner.loader.problems import Collector, Problem, ValidationFailed, json_path
from runner.loader.submission import build_teams, check_submission_doc
from runner.yamlsafe import Document, YamlError, read_yaml

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "Problem",
    "Repo",
    "ValidationFailed",
    "check_challenge",
    "check_submission",
    "check_teams",
    "json_path",
    "load_challenge",
    "load_repo",
    "load_submission",
    "load_teams",
    "parse_time",
    "selection_phase",
    "too_many_selected",
]


@dataclass(frozen=True)
class Repo:
    root: Path
    challenges: dict[str, models.Challenge]
    submissions: tuple[models.Submission, ...]
    teams: dict[str, models.Team]
    problems: tuple[Problem, ...]
    files_checked: int = 0


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


def _read(path: Path, out: Collector) -> tuple[bytes, Document] | None:
    """Read a YAML file safely; on failure add the problem and return None."""
    try:
        raw, doc = read_yaml(path)
    except YamlError as err:
        out.add_yaml_error(err)
        return None
    except OSError as err:
        out.add_yaml_error(YamlError(f"cannot be read: {err.strerror}"))
        return None
    out.doc = doc
    if not isinstance(doc.data, dict):
        out.add((), "the file must be a YAML mapping (key: value lines)")
        return None
    return raw, doc


def check_challenge(
    path: Path, root: Path | None = None
) -> tuple[models.Challenge | None, list[Problem]]:
    """(Challenge or None, problems) for challenges/<id>/ or its challenge.yaml.

    Paths in the result are absolute; problems show them relative to ``root``.
    """
    path = path.absolute()
    file = path / "challenge.yaml" if path.is_dir() else path
    out = Collector(_display(file, root))
    read = _read(file, out)
    challenge = check_challenge_doc(file.parent, read[0], read[1], out) if read else None
    return (None if out.problems else challenge), out.problems


def check_submission(
    path: Path,
    root: Path,
    challenges: Mapping[str, models.Challenge] | None = None,
    teams: Mapping[str, models.Team] | None = None,
) -> tuple[models.Submission | None, list[Problem]]:
    """(Submission or None, problems) for one manifest."""
    path, root = path.absolute(), root.absolute()
    out = Collector(_display(path, root))
    read = _read(path, out)
    submission = None
    if read:
        submission = check_submission_doc(
            path,
            root,
            read[0],
            read[1],
            out,
            dict(challenges) if challenges is not None else None,
            dict(teams or {}),
        )
    if submission is not None and not out.problems and challenges:
        out.problems += _predictions_problems(submission, challenges, root)
    return (None if out.problems else submission), out.problems


def _predictions_problems(
    submission: models.Submission, challenges: Mapping[str, models.Challenge], root: Path
) -> list[Problem]:
    """The predictions file checked against the challenge's public ids (see
    ``runner.loader.predictions``): a file refused here is never evaluated."""
    challenge = challenges.get(submission.challenge)
    if submission.predictions is None or challenge is None:
        return []
    if challenge.predictions.format == "files":
        return []  # an opaque file: the challenge's scoring program is its only judge
    # Imported here: pyarrow would slow every `--help` (tests/test_cli.py times it).
    from runner.loader.predictions import check_predictions, public_ids

    display = _display(submission.predictions, root)
    public = public_ids(challenge, root)
    found = check_predictions(submission.predictions, challenge.predictions, public)
    return [Problem(display, p.line, 1 if p.line else None, "", p.message) for p in found]


def check_teams(
    path: Path, root: Path | None = None
) -> tuple[dict[str, models.Team], list[Problem]]:
    path = path.absolute()
    out = Collector(_display(path, root))
    read = _read(path, out)
    teams = build_teams(read[1], out) if read else {}
    return teams, out.problems


def _unique_identities(submissions: list, root: Path) -> tuple[list, list[Problem]]:
    """Results are filed by challenge, participant and name: two manifests must not share them.

    (A participant's own folder and their team's folder could otherwise both hold a "knn".)
    """
    seen: dict[tuple[str, str, str], models.Submission] = {}
    kept, problems = [], []
    for sub in submissions:
        key = (sub.challenge, sub.participant, sub.name)
        if key in seen:
            first = _display(seen[key].path, root)
            problems.append(
                Problem(
                    _display(sub.path, root),
                    None,
                    None,
                    "$.name",
                    f"{sub.participant} already has a submission named {sub.name!r} in "
                    f"{sub.challenge} ({first}); results are filed by participant and name, "
                    "so rename one",
                )
            )
            continue
        seen[key] = sub
        kept.append(sub)
    return kept, problems


def _too_many_selected(
    submissions: Iterable[models.Submission],
    challenges: Mapping[str, models.Challenge],
    root: Path,
) -> list[Problem]:
    """No entrant may mark more submissions ``selected`` than a phase's ``selection:`` counts."""
    marked: dict[tuple[str, str], list[models.Submission]] = {}
    for sub in submissions:
        if sub.selected:
            marked.setdefault((sub.challenge, sub.entrant), []).append(sub)
    problems = []
    for (challenge_id, entrant), subs in sorted(marked.items()):
        phase = selection_phase(challenges[challenge_id])
        if phase is None or phase.selection is None or len(subs) <= phase.selection:
            continue
        message = too_many_selected(entrant, challenge_id, [s.name for s in subs], phase)
        for sub in subs:
            problems.append(Problem(_display(sub.path, root), None, None, "$.selected", message))
    return problems


def selection_phase(challenge: models.Challenge) -> models.Phase | None:
    """The phase whose ``selection:`` bounds how many manifests an entrant may mark
    ``selected`` (the smallest, when several phases have one); None if no phase has one."""
    limits = [p for p in challenge.phases if p.selection]
    return min(limits, key=lambda p: p.selection or 0) if limits else None


def too_many_selected(
    entrant: str, challenge_id: str, names: list[str], phase: models.Phase
) -> str:
    """The problem of an entrant marking ``names`` selected, more than ``phase`` counts."""
    return (
        f"{entrant} marks {len(names)} submissions of {challenge_id} selected "
        f"({', '.join(names)}), but phase {phase.id!r} counts {phase.selection} "
        "(selection:); remove selected from the others"
    )


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)


def load_challenge(path: Path) -> models.Challenge:
    challenge, problems = check_challenge(path)
    _raise_if(problems)
    assert challenge is not None  # no problems: it was built
    return challenge


def load_teams(path: Path) -> dict[str, models.Team]:
    if not path.exists():
        return {}
    teams, problems = check_teams(path)
    _raise_if(problems)
    return teams


def load_submission(
    path: Path,
    *,
    root: Path,
    challenges: Mapping[str, models.Challenge] | None = None,
    teams: Mapping[str, models.Team] | None = None,
) -> models.Submission:
    if teams is None:
        teams = load_teams(root / "teams.yaml")
    submission, problems = check_submission(path, root, challenges, teams)
    _raise_if(problems)
    assert submission is not None  # no problems: it was built
    return submission


def find_manifests(root: Path) -> list[Path]:
    """Manifests under submissions/, sorted: YAML files at most three folders deep.

    Shallower ones are misplaced manifests (reported); deeper ones belong to a submission's
    own files (a build context, say) and are not manifests.
    """
    base = root / "submissions"
    if not base.is_dir():
        return []
    found = []
    for pattern in ("*", "*/*", "*/*/*"):
        found += [p for p in base.glob(pattern) if p.suffix in (".yaml", ".yml")]
    return sorted(found)


def load_repo(root: Path) -> Repo:
    """Load every challenge, teams.yaml and every manifest under ``root``."""
    root = root.absolute()
    problems: list[Problem] = []
    challenges: dict[str, models.Challenge] = {}
    for folder in sorted((root / "challenges").glob("*/")):
        if not (folder / "challenge.yaml").exists():
            continue
        challenge, found = check_challenge(folder, root)
        problems += found
        if challenge is not None:
            challenges[challenge.id] = challenge
    teams: dict[str, models.Team] = {}
    if (root / "teams.yaml").exists():
        teams, found = check_teams(root / "teams.yaml", root)
        problems += found
    broken = {f.parent.name for f in (root / "challenges").glob("*/challenge.yaml")} - set(
        challenges
    )
    submissions = []
    manifests = find_manifests(root)
    for path in manifests:
        # Manifests of a challenge that failed to load skip the checks that need it.
        parts = path.relative_to(root).parts
        of = parts[1] if len(parts) > 2 else ""  # the challenge folder it submits to
        against = None if of in broken else challenges
        submission, found = check_submission(path, root, against, teams)
        problems += found
        if submission is not None and submission.challenge in challenges:
            submissions.append(submission)
    submissions, clashes = _unique_identities(submissions, root)
    problems += clashes
    problems += _too_many_selected(submissions, challenges, root)
    checked = len(list((root / "challenges").glob("*/challenge.yaml")))
    checked += (root / "teams.yaml").exists() + len(manifests)
    return Repo(root, challenges, tuple(submissions), teams, tuple(problems), checked)
