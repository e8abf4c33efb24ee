"""The main job: evaluate every submission of a repository that lacks a current record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import RunnerError
from runner.loader import Problem, load_repo
from runner.pipeline import Options, evaluate

Progress = Callable[[str], None]


@dataclass
class RunReport:
    problems: list[Problem] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)  # "label: status"
    cached: int = 0
    failures: list[str] = field(default_factory=list)  # maintainer-fixable errors

    @property
    def ok(self) -> bool:
        return not (self.problems or self.failures)

    def lines(self) -> list[str]:
        out = [f"invalid: {p}" for p in self.problems]
        out += [f"failed to evaluate: {f}" for f in self.failures]
        out.append(
            f"{len(self.evaluated)} evaluated, {self.cached} unchanged, "
            f"{len(self.problems)} invalid file(s), "
            f"{len(self.failures)} error(s)"
        )
        return out


def run_all(
    root: Path,
    *,
    results_dir: Path,
    only: set[str] = frozenset(),
    force: bool = False,
    unsafe: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """Evaluate, one by one, every valid submission without a current record.

    Submission limits are not enforced here: they are checked when a participant submits
    (``pr prepare``), and a maintainer re-evaluating merged submissions after a change to
    the challenge must not be stopped by them.
    """
    repo = load_repo(root)
    report = RunReport(problems=list(repo.problems))
    todo = [s for s in repo.submissions if not only or s.challenge in only]
    options = Options(
        results_dir=results_dir,
        force=force,
        unsafe=unsafe,
        enforce_limits=False,
        progress=progress,
    )
    for i, submission in enumerate(todo, 1):
        label = f"{submission.challenge}/{submission.entrant}/{submission.name}"
        if progress:
            progress(f"[{i}/{len(todo)}] {label}")
        try:
            done = evaluate(repo.challenges[submission.challenge], submission, options)
        except RunnerError as err:
            report.failures.append(f"{label}: {err}")
            continue
        if done.cached:
            report.cached += 1
        else:
            report.evaluated.append(f"{label}: {done.result.status}")
            if progress:
                progress(f"{label}: {_outcome(done.result)}")
    return report


def _outcome(result) -> str:
    """``scored roc_auc=0.9983`` or ``invalid: <participant-safe reason>``."""
    if result.status != "scored":
        return f"{result.status}: {result.message}"
    public = result.scores.get("public", {})
    first = next(iter(public.items()), None)
    return f"scored {first[0]}={first[1].value:.4g}" if first else "scored"
