"""Leaderboards: one ranking function for every board the runner shows (DESIGN §6).

For a challenge and a phase, ``build_board``:

1. takes the current records (``current_results``: a reveal replaces its sealed original) of
   the challenge whose ``created_at`` lies in the phase window -- time decides, not the
   record's ``phase`` field, so records stay on the right board when phases are renamed or
   moved, and late records (outside every window) are never ranked;
2. counts each entrant's non-``error`` evaluations in the window (``evaluations``);
3. keeps ``scored`` records that have the primary metric on the board's split;
4. in a phase with ``selection: k``, keeps the records of the submissions each entrant's
   manifests mark ``selected: true`` (the loader allows at most k), or, none marked, the
   entrant's latest k records (by ``created_at``): the last ones are those they stand by;
5. picks each entrant's best record -- the entrant is the participant, or the team when
   ``leaderboard.best_of`` is ``team`` and the record has one; with ``leaderboard.ladder``
   on a public board, the record the Ladder released instead (``runner.ladder``);
6. ranks by the primary metric in its direction, ties broken by the next metrics in order,
   then by the earlier ``created_at``, then by evaluation id. Two records never tie on all
   of these (evaluation ids are unique), so ranks are 1..N without gaps or shared places.

Baseline records (maintainers' reference submissions) appear once per submission, in sorted
position, with rank None, and never take a rank. A private board is empty (``revealed``
False) before the phase's reveal time; after it, records whose private scores are still
sealed (``challenge-runner reveal`` not yet run) are counted in ``sealed``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from runner.entrants import Entrants
from runner.ladder import ladder
from runner.models import Challenge, MetricSpec, Phase, Result, Score, Submission
from runner.records import current_results, format_time


@dataclass(frozen=True)
class Entry:
    rank: int | None  # None for baselines
    entrant: str  # who ranks: the participant, or the team under best_of: team
    participant: str
    team: str | None
    submission: str
    scores: dict[str, Score]  # metric -> score on the board's split (Ladder: released value)
    created_at: datetime
    evaluations: int  # non-error evaluations by the entrant in the phase
    baseline: bool
    result: Result


@dataclass(frozen=True)
class Board:
    challenge: str
    phase: str
    split: str
    metrics: tuple[MetricSpec, ...]
    entries: tuple[Entry, ...]
    revealed: bool
    sealed: int = 0  # scored records whose private scores await `challenge-runner reveal`
    ladder: bool = False  # public scores shown are the Ladder's released ones


def _entrant(challenge: Challenge, result: Result) -> str:
    if challenge.leaderboard.best_of == "team" and result.team:
        return result.team
    return result.participant


@dataclass(frozen=True)
class _Groups:
    """Who a record ranks as: ``runner.entrants`` keys (user id where known, names without
    regard to case), and which submissions are baselines -- decided by each submission's
    latest record, so marking one ``baseline: true`` after its first evaluation moves all its
    records to the baseline row instead of listing it twice."""

    entrants: Entrants
    best_of: str
    baselines: frozenset

    @classmethod
    def of(cls, challenge: Challenge, results: list[Result]) -> _Groups:
        entrants = Entrants.of(results)
        latest: dict[tuple, Result] = {}
        for r in sorted(results, key=lambda r: (r.created_at, r.evaluation_id)):
            latest[(entrants.person(r.participant, r.user_id), r.submission)] = r
        marked = frozenset(key for key, r in latest.items() if r.baseline)
        return cls(entrants, challenge.leaderboard.best_of, marked)

    def __call__(self, result: Result) -> tuple[str, ...]:
        # Each baseline is its own row; everyone else competes as one entrant.
        person = self.entrants.person(result.participant, result.user_id)
        if (person, result.submission) in self.baselines:
            return ("baseline", person, result.submission)
        return ("entrant", self.entrants.ranking_key(result, self.best_of))


def _rank_key(scores: dict[str, Score], result: Result, board: Board) -> tuple:
    values = []
    for spec in board.metrics:
        score = scores.get(spec.name)
        higher = spec.higher_is_better
        values.append(math.inf if score is None else (-score.value if higher else score.value))
    return (*values, result.created_at, result.evaluation_id)


def _pick(
    challenge: Challenge, records: list[Result], board: Board, baseline: bool
) -> tuple[Result, dict]:
    """The record that stands for a group, and the scores the board shows for it."""
    spec = board.metrics[0]
    primary, higher, precision = spec.name, spec.higher_is_better, spec.precision
    if board.ladder and not baseline:
        ci = challenge.leaderboard.ci
        release = ladder(records, primary, higher, split=board.split, ci=ci, precision=precision)
        assert release is not None
        scores = dict(release.result.scores[board.split])
        if not math.isclose(release.value, scores[primary].value, rel_tol=1e-9):
            # A rounded (fixed-step) release of a record stored before the Ladder was
            # withheld at record time: its interval is centred on the exact score, which
            # the Ladder withholds, so it goes too. (Records stored since hold the released
            # value already, up to float noise in the step.)
            scores[primary] = Score(release.value)
        return release.result, scores
    best = min(records, key=lambda r: _rank_key(r.scores[board.split], r, board))
    return best, best.scores[board.split]


def _selected(
    records: list[Result], selection: int | None, marked: Collection[tuple[str, str]] = ()
) -> list[Result]:
    """In a ``selection: k`` phase, the records that may stand for an entrant: those of the
    submissions their manifests mark ``selected: true`` if any are marked, else the latest k."""
    if selection is None:
        return records
    chosen = [r for r in records if (r.participant, r.submission) in marked]
    return chosen or sorted(records, key=lambda r: (r.created_at, r.evaluation_id))[-selection:]


def marked_selected(submissions: Iterable[Submission], challenge_id: str) -> frozenset:
    """(participant, submission name) of every manifest of the challenge marked selected."""
    return frozenset(
        (s.participant, s.name) for s in submissions if s.challenge == challenge_id and s.selected
    )


def build_board(
    challenge: Challenge,
    results: Iterable[Result],
    phase: Phase,
    *,
    split: str | None = None,
    now: datetime | None = None,
    selected: Collection[tuple[str, str]] = (),
) -> Board:
    """The phase's leaderboard (see the module doc for every rule); ``selected`` holds the
    (participant, submission) pairs marked ``selected: true`` (``marked_selected``)."""
    split = split or phase.leaderboard
    now = now or datetime.now(UTC)
    mine = (r for r in results if r.challenge == challenge.id)
    in_phase = [r for r in current_results(mine) if phase.contains(r.created_at)]
    board = Board(
        challenge=challenge.id,
        phase=phase.id,
        split=split,
        metrics=challenge.metrics,
        entries=(),
        revealed=split == "public" or now >= phase.reveal_at,
        ladder=challenge.leaderboard.ladder and split == "public",
    )
    if not board.revealed:
        return board
    scored = [r for r in in_phase if r.status == "scored"]
    ranked = [r for r in scored if challenge.primary.name in r.scores.get(split, {})]
    sealed = sum(1 for r in scored if split == "private" and r.private is not None)
    return replace(
        board,
        entries=_entries(challenge, in_phase, ranked, board, phase, frozenset(selected)),
        sealed=sealed,
    )


def _entries(
    challenge: Challenge,
    in_phase: list[Result],
    ranked: list[Result],
    board: Board,
    phase: Phase,
    marked: frozenset = frozenset(),
) -> tuple[Entry, ...]:
    group_of = _Groups.of(challenge, in_phase)
    counts = Counter(group_of(r) for r in in_phase if r.status != "error")
    groups: dict[tuple[str, ...], list[Result]] = defaultdict(list)
    for result in ranked:
        groups[group_of(result)].append(result)
    picked = []
    for group, records in groups.items():
        baseline = group[0] == "baseline"
        chosen = _selected(records, phase.selection, marked)
        best, scores = _pick(challenge, chosen, board, baseline)
        picked.append((_rank_key(scores, best, board), group, best, scores))
    picked.sort(key=lambda item: item[0])
    entries, rank = [], 0
    for _, group, best, scores in picked:
        baseline = group[0] == "baseline"
        rank += 0 if baseline else 1
        entry = _entry(challenge, best, scores, None if baseline else rank, counts[group])
        entries.append(replace(entry, baseline=baseline))
    return tuple(entries)


def _entry(
    challenge: Challenge, result: Result, scores: dict, rank: int | None, evaluations: int
) -> Entry:
    return Entry(
        rank=rank,
        entrant=_entrant(challenge, result),
        participant=result.participant,
        team=result.team,
        submission=result.submission,
        scores=scores,
        created_at=result.created_at,
        evaluations=evaluations,
        baseline=result.baseline,
        result=result,
    )


# ---------------------------------------------------------------- exports


def _entry_dict(entry: Entry, board: Board) -> dict:
    scores = {}
    for spec in board.metrics:
        score = entry.scores.get(spec.name)
        scores[spec.name] = None if score is None else vars(score).copy()
    return {
        "rank": entry.rank,
        "entrant": entry.entrant,
        "participant": entry.participant,
        "team": entry.team,
        "submission": entry.submission,
        "evaluation_id": entry.result.evaluation_id,
        "created_at": format_time(entry.created_at),
        "evaluations": entry.evaluations,
        "baseline": entry.baseline,
        "scores": scores,
    }


def board_to_json(board: Board) -> str:
    """The board as JSON (``leaderboard.json``): metadata, metrics and ranked entries."""
    metrics = [
        {"name": spec.name, "column": spec.column, "higher_is_better": hib, "precision": prec}
        for spec, hib, prec in ((s, s.higher_is_better, s.precision) for s in board.metrics)
    ]
    data = {
        "challenge": board.challenge,
        "phase": board.phase,
        "split": board.split,
        "revealed": board.revealed,
        "ladder": board.ladder,
        "sealed": board.sealed,
        "metrics": metrics,
        "entries": [_entry_dict(entry, board) for entry in board.entries],
    }
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


CSV_FIELDS = ("rank", "entrant", "participant", "team", "submission", "evaluation_id",
              "created_at", "evaluations", "baseline")  # fmt: skip


def _cell(value: object) -> object:
    # A cell starting with = + - @ is a formula to spreadsheets: quote it (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def board_to_csv(board: Board) -> str:
    """The board as CSV: one row per entry, then value, ci_low, ci_high per metric."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    metric_cols = [
        f"{s.name}{suffix}" for s in board.metrics for suffix in ("", "_ci_low", "_ci_high")
    ]
    writer.writerow([*CSV_FIELDS, *metric_cols])
    for entry in board.entries:
        row = _entry_dict(entry, board)
        cells = [_cell("" if row[f] is None else row[f]) for f in CSV_FIELDS]
        for spec in board.metrics:
            score = row["scores"][spec.name] or {}
            cells += [
                score.get(k, "") if score.get(k) is not None else ""
                for k in ("value", "ci_low", "ci_high")
            ]
        writer.writerow(cells)
    return out.getvalue()


def board_to_table(board: Board) -> str:
    """The board as an aligned text table for a terminal (values at display precision)."""
    header = [
        "rank",
        "entrant",
        "submission",
        *(s.name for s in board.metrics),
        "evals",
        "created_at",
    ]
    rows = [header]
    for entry in board.entries:
        values = []
        for spec, precision in ((s, s.precision) for s in board.metrics):
            score = entry.scores.get(spec.name)
            values.append("-" if score is None else _shown(score, precision))
        rank = "base" if entry.rank is None else str(entry.rank)
        created = f"{entry.created_at.astimezone(UTC):%Y-%m-%d %H:%M}"
        rows.append(
            [rank, entry.entrant, entry.submission, *values, str(entry.evaluations), created]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def _shown(score: Score, precision: int) -> str:
    text = f"{score.value:.{precision}f}"
    if score.ci_low is not None and score.ci_high is not None:
        text += f" [{score.ci_low:.{precision}f}, {score.ci_high:.{precision}f}]"
    return text
