"""The main job: evaluate every submission of a repository that lacks a current record.

Each submission is isolated: whatever goes wrong with one (a maintainer-fixable
``RunnerError`` or a bug) is reported with its manifest's path and the batch goes on.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import RunnerError
from runner.evaluation.local import Evaluation, Options, evaluate
from runner.loader import Problem, load_repo
from runner.models import Challenge, Result, Submission
from runner.progress import Progress, say


@dataclass
class RunReport:
    problems: list[Problem] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)  # "label: status"
    cached: int = 0
    failures: list[str] = field(default_factory=list)  # "manifest: what went wrong"

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
    only: frozenset[str] | set[str] = frozenset(),
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
        say(progress, f"[{i}/{len(todo)}] {label}")
        done = _isolated(repo.challenges[submission.challenge], submission, options, report, root)
        if done is None:
            continue
        if done.cached:
            report.cached += 1
        else:
            report.evaluated.append(f"{label}: {done.result.status}")
            say(progress, f"{label}: {_outcome(done.result)}")
    return report


def _isolated(
    challenge: Challenge, submission: Submission, options: Options, report: RunReport, root: Path
) -> Evaluation | None:
    """``evaluate``, with any failure recorded in ``report`` instead of stopping the batch."""
    where = _shown(submission.path, root)
    try:
        return evaluate(challenge, submission, options)
    except RunnerError as err:
        report.failures.append(f"{where}: {err}")
    except Exception as err:  # a bug: report it with its traceback, go on with the others
        report.failures.append(f"{where}: unexpected {type(err).__name__}: {err} (a bug)")
        say(options.progress, f"{where}: traceback of the unexpected error:\n" + _trace(err))
    return None


def _trace(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)).rstrip()


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _outcome(result: Result) -> str:
    """``scored roc_auc=0.9983`` or ``invalid: <participant-safe reason>``."""
    if result.status != "scored":
        return f"{result.status}: {result.message}"
    public = result.scores.get("public", {})
    first = next(iter(public.items()), None)
    return f"scored {first[0]}={first[1].value:.4g}" if first else "scored"
