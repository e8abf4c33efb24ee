"""The main job: evaluate every submission of a repository that lacks a current record.

Each submission is isolated: whatever goes wrong with one (a maintainer-fixable
``RunnerError`` or a bug) is reported with its manifest's path and the batch goes on. A
challenge whose hidden data cannot be opened (a missing key, say) is reported once, with the
number of its submissions left unevaluated.

Limits hold as in CI (``runner.limits``): the batch is one plan, each new evaluation counts
the records written before it, and one beyond its entrant's quota is not evaluated and not
counted (``over_limit``; a later run evaluates it when the quota allows). Re-evaluations of
artifacts already on record take no quota, so a changed challenge is re-evaluated whole.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from runner.errors import RunnerError
from runner.evaluation.local import Evaluation, LimitReached, Options, evaluate
from runner.loader import Problem, Repo, load_repo
from runner.models import Challenge, Result, Submission
from runner.progress import Progress, say


@dataclass
class RunReport:
    problems: list[Problem] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)  # "label: status"
    cached: int = 0
    failures: list[str] = field(default_factory=list)  # "manifest: what went wrong"
    over_limit: list[str] = field(default_factory=list)  # "manifest: the limit's message"

    @property
    def ok(self) -> bool:
        """Nothing to fix: over-limit submissions wait for their quota, they are not errors."""
        return not (self.problems or self.failures)

    def lines(self) -> list[str]:
        out = [f"invalid: {p}" for p in self.problems]
        out += [f"failed to evaluate: {f}" for f in self.failures]
        out += [f"over the limit, not evaluated and not counted: {o}" for o in self.over_limit]
        out.append(
            f"{len(self.evaluated)} evaluated, {self.cached} unchanged, "
            f"{len(self.over_limit)} over the limit, "
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
    enforce_limits: bool = True,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> RunReport:
    """Evaluate, one by one in manifest order, every valid submission without a current
    record, within the limits (see the module docstring) unless ``enforce_limits`` is False.
    """
    repo = load_repo(root)
    report = RunReport(problems=list(repo.problems))
    todo = [s for s in repo.submissions if not only or s.challenge in only]
    options = Options(
        results_dir=results_dir,
        force=force,
        unsafe=unsafe,
        enforce_limits=enforce_limits,
        progress=progress,
        now=now,
    )
    closed = _without_data(repo, todo, options, report)
    todo = [s for s in todo if s.challenge not in closed]
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


def _without_data(
    repo: Repo, todo: list[Submission], options: Options, report: RunReport
) -> set[str]:
    """The challenges of ``todo`` whose hidden data cannot be opened, each reported once.

    Every evaluation needs the data (the cache key includes its sha256), so each of their
    submissions would fail the same way; one line per challenge says it instead.
    """
    from runner.data import open_hidden

    closed = set()
    for challenge_id in dict.fromkeys(s.challenge for s in todo):
        challenge = repo.challenges[challenge_id]
        count = sum(1 for s in todo if s.challenge == challenge_id)
        where = f"challenge {challenge_id} ({count} submission(s) not evaluated)"
        say(options.progress, f"{challenge_id}: obtaining hidden data")
        try:
            open_hidden(
                challenge, cache_dir=options.cache_dir, env=options.env, progress=options.progress
            )
        except RunnerError as err:
            closed.add(challenge_id)
            report.failures.append(f"{where}: {_shown_error(err, repo.root)}")
        except Exception as err:  # a bug: as in _isolated
            closed.add(challenge_id)
            report.failures.append(f"{where}: unexpected {type(err).__name__}: {err} (a bug)")
            say(
                options.progress,
                f"{challenge_id}: traceback of the unexpected error:\n" + _trace(err),
            )
    return closed


def _isolated(
    challenge: Challenge, submission: Submission, options: Options, report: RunReport, root: Path
) -> Evaluation | None:
    """``evaluate``, with any failure recorded in ``report`` instead of stopping the batch."""
    where = _shown(submission.path, root)
    try:
        return evaluate(challenge, submission, options)
    except LimitReached as err:
        report.over_limit.append(f"{where}: {err.message}")
        say(options.progress, f"{where}: over the limit, not evaluated: {err.message}")
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


def _shown_error(err: RunnerError, root: Path) -> str:
    """``str(err)`` with its path relative to the repository, as manifests are shown."""
    return f"{_shown(Path(err.path), root)}: {err.message}" if err.path else err.message


def _outcome(result: Result) -> str:
    """``scored roc_auc=0.9983`` or ``invalid: <participant-safe reason>``."""
    if result.status != "scored":
        return f"{result.status}: {result.message}"
    public = result.scores.get("public", {})
    first = next(iter(public.items()), None)
    return f"scored {first[0]}={first[1].value:.4g}" if first else "scored"
