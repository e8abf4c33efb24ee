"""Everything the site shows, loaded once per build from ``challenges/``, ``submissions/``,
``teams.yaml`` and ``results/``: challenges, results grouped per challenge, each phase's
boards, and the manifests (for descriptions and links).

Files that do not load are not silently dropped: their problems are returned so the hook
logs them as warnings (``mkdocs build --strict`` then fails with the file named).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from runner.leaderboard import Board, board_to_csv, board_to_json, build_board, marked_selected
from runner.loader import load_repo
from runner.models import Challenge, Phase, Result, Submission
from runner.records import current_results, load_results
from runner.scoring import interval_method
from runner.site.status import is_revealed

__all__ = ["Board", "board_to_csv", "board_to_json", "load_site_data"]


@dataclass(frozen=True)
class MetricView:
    """A metric as the site shows it: the spec (its resolved direction and precision) and
    what only the site says about it."""

    name: str
    column: str | None
    higher_is_better: bool
    precision: int
    label: str | None = None  # shown instead of the name where set (e.g. "Total")
    interval: str | None = None  # how its intervals are made, in words; None: no interval


@dataclass(frozen=True)
class PhaseBoards:
    phase: Phase
    public: Board
    private: Board | None  # only for a private phase, and only once it is revealed


@dataclass(frozen=True)
class ChallengeData:
    challenge: Challenge
    results: tuple[Result, ...]  # current records (a reveal replaces its sealed original)
    metrics: tuple[MetricView, ...]
    phases: tuple[PhaseBoards, ...]

    def shown_boards(self) -> list[Board]:
        """Every board the challenge page shows: each phase's public board and, once
        revealed, its private one."""
        return [b for p in self.phases for b in (p.public, p.private) if b is not None]

    def boards_of(self, phase_id: str) -> PhaseBoards:
        return next(b for b in self.phases if b.phase.id == phase_id)


@dataclass(frozen=True)
class SiteData:
    root: Path
    now: datetime
    challenges: dict[str, ChallengeData]
    manifests: dict[tuple[str, str, str], Submission]  # (challenge, participant, name)
    problems: tuple[str, ...] = field(default=())
    repo_url: str | None = None  # https://github.com/owner/repo: links commits and PRs
    site_url: str | None = None  # where the site is published: absolute badge snippets
    submit_page: str | None = None  # the hand-written "how to submit" page, if the docs have one


def _metric_views(challenge: Challenge) -> tuple[MetricView, ...]:
    views = []
    for spec in challenge.metrics:
        method = None if challenge.program else interval_method(spec)
        views.append(
            MetricView(
                spec.name, spec.column, spec.higher_is_better, spec.precision, spec.label, method
            )
        )
    return tuple(views)


def _phase_boards(
    challenge: Challenge, results: tuple[Result, ...], now: datetime, selected: frozenset
) -> tuple[PhaseBoards, ...]:
    out = []
    for phase in challenge.phases:
        if not phase.listed:  # unlisted: records are kept, nothing is shown
            continue
        public = build_board(challenge, results, phase, split="public", now=now, selected=selected)
        private = None
        if phase.leaderboard == "private" and is_revealed(phase, now):
            board = build_board(
                challenge, results, phase, split="private", now=now, selected=selected
            )
            private = board if board.revealed else None
        out.append(PhaseBoards(phase, public, private))
    return tuple(out)


def challenge_data(
    challenge: Challenge,
    results: tuple[Result, ...],
    now: datetime,
    selected: frozenset = frozenset(),
) -> ChallengeData:
    """The boards and metric display of one challenge (pure: no file access); ``selected``:
    the (participant, name) pairs whose manifests say ``selected: true``."""
    results = tuple(current_results(results))
    boards = _phase_boards(challenge, results, now, selected)
    return ChallengeData(challenge, results, _metric_views(challenge), boards)


def load_site_data(root: Path, now: datetime) -> SiteData:
    """Load the repository at ``root`` for a build at ``now``."""
    repo = load_repo(root)
    problems = [str(p) for p in repo.problems]
    loaded = load_results(root / "results")
    problems += [str(p) for p in loaded.problems]
    by_challenge: dict[str, list[Result]] = defaultdict(list)
    for result in loaded.results:
        by_challenge[result.challenge].append(result)
    for orphan in sorted(set(by_challenge) - set(repo.challenges)):
        problems.append(f"results/{orphan}/: records of a challenge that is not defined")
    challenges = {
        cid: challenge_data(
            ch, tuple(by_challenge.get(cid, ())), now, marked_selected(repo.submissions, cid)
        )
        for cid, ch in sorted(repo.challenges.items())
    }
    manifests = {(s.challenge, s.participant, s.name): s for s in repo.submissions}
    return SiteData(root, now, challenges, manifests, tuple(problems))
