"""The ``record`` step: decide which new records enter the results store, and say what landed.

Records are immutable. A record whose file is already in the store (same path, same bytes) is
not a conflict: an earlier attempt or a re-run landed it. A *different* file at the same path
is an error (evaluation ids are unique; something wrote a second record under one id).

Limits are checked again here, against the store as it is when the record is written
(DESIGN §3: "checked where the plan is made and again where the record is written"): two pull
requests prepared against the same store may both pass ``prepare``, but the record step of
the second sees the first's record. A record over the limit is left out and reported as
"over the limit, not recorded"; it does not count. In CI the store is the freshly fetched
results branch and the push is a compare-and-swap (``runner.github.push``), so two racing
record jobs can never both pass against the same store.

What happened to each record goes to an ``Outcome`` file that ``pr report --recorded`` reads:
the report shows a score only for a record that really landed. The outcome also carries each
submitter's limits as they stand on the store once the records are in (``LimitsLeft``): the
report job checks out the pull request's base, whose results may lag the store by the
records other pull requests landed since, so its "limits left" line takes them from here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from runner.errors import RecordError
from runner.models import Challenge, Result

LANDED = "landed"
OVER_LIMIT = "over-limit"
NOT_RECORDED = "not-recorded"
OUTCOME_VERSION = 2  # 2: limits (LimitsLeft)


@dataclass(frozen=True)
class Candidate:
    """A new record: where it goes in the repository and the git blob id of its bytes."""

    result: Result
    path: str  # inside the repository, e.g. results/<challenge>/<participant>/<name>/<id>.json
    blob: str  # git blob id (sha1 of "blob <size>\0" + bytes): how git names the file
    source: Path | None  # the file `pr score` wrote (None: another job's record)

    @property
    def key(self) -> str:
        r = self.result
        return f"{r.challenge}/{r.participant}/{r.submission}"


@dataclass(frozen=True)
class Admission:
    """What one look at the store decided: records to add, already there, over the limit."""

    add: tuple[Candidate, ...]
    present: tuple[Candidate, ...]
    over_limit: tuple[tuple[Candidate, str], ...]  # (record, participant-safe limit message)


@dataclass(frozen=True)
class Fate:
    """What became of one record."""

    key: str  # challenge/participant/name, as plan items are keyed
    evaluation_id: str
    path: str
    state: str  # LANDED | OVER_LIMIT | NOT_RECORDED
    message: str = ""  # participant-safe


@dataclass(frozen=True)
class LimitsLeft:
    """One submitter's limits on the results store as recorded (``runner.limits.remaining``
    with the store after the records went in), for the report's "limits left" line."""

    challenge: str
    participant: str
    team: str | None
    left_today: int | None
    left_total: int | None
    resets_at: str | None  # ISO 8601 (UTC), when there is a daily limit

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.challenge, self.participant, self.team)

    @property
    def resets(self) -> datetime | None:
        return datetime.fromisoformat(self.resets_at) if self.resets_at else None


@dataclass(frozen=True)
class Outcome:
    """What ``pr record`` did, for ``pr report``: one fate per record, the commit that holds
    the landed ones, why nothing landed when a push failed (participant-safe), and the
    submitters' limits on the store as recorded (empty when the store was not read)."""

    records: tuple[Fate, ...]
    commit: str | None = None
    error: str | None = None
    attempts: int = 0
    limits: tuple[LimitsLeft, ...] = ()

    def fate(self, evaluation_id: str) -> Fate | None:
        return next((f for f in self.records if f.evaluation_id == evaluation_id), None)

    def to_json(self) -> str:
        data = {"version": OUTCOME_VERSION, **asdict(self)}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str = "the outcome file") -> Outcome:
        try:
            data = json.loads(text)
            if data.pop("version") != OUTCOME_VERSION:
                raise ValueError(f"version is not {OUTCOME_VERSION}")
            fates = tuple(Fate(**f) for f in data.pop("records"))
            limits = tuple(LimitsLeft(**x) for x in data.pop("limits"))
            return cls(records=fates, limits=limits, **data)
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise RecordError(
                f"not an outcome written by `pr record` ({err}); re-run the record job",
                path=where,
            ) from err

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")


def read_outcome(path: Path) -> Outcome:
    """The outcome ``pr record`` wrote; a missing file means the record job did not finish."""
    if not path.is_file():
        return Outcome(records=(), error="the record job did not finish")
    return Outcome.from_json(path.read_text(encoding="utf-8"), str(path))


def blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def read_candidates(records: Path, prefix: str) -> list[Candidate]:
    """Validate every record under ``records`` (RecordError on anything malformed) and place
    it under ``prefix`` (the results folder, relative to the repository root)."""
    from runner.records import read_result, result_path

    paths = sorted(records.rglob("*.json"))
    if not paths:
        raise RecordError(f"no result records under {records}: the score job wrote none")
    found = []
    for path in paths:
        result = read_result(path)
        target = result_path(Path(prefix), result).as_posix()
        found.append(Candidate(result, target, blob_id(path.read_bytes()), path))
    return found


def over_limit(challenge: Challenge, results: Sequence[Result], record: Result) -> str | None:
    """The limit message if ``record`` would exceed its submitter's limits given ``results``
    (the store plus the records admitted before it), else None. The one call into limits."""
    from runner.limits import admit

    # admit knows the whole rule: entrants by user id, errors and re-evaluations are free.
    (status,) = admit(challenge, results, [record], record.created_at)
    return None if status.allowed else status.message


def admit(
    candidates: Iterable[Candidate],
    on_store: Mapping[str, str],
    store: Sequence[Result],
    challenges: Mapping[str, Challenge],
) -> Admission:
    """Decide against one state of the store. ``on_store`` maps the candidates' paths that
    already exist in it to their blob ids; ``store`` holds its records (for limits).

    Earlier evaluations are admitted first, so within one pull request the excess is the
    latest. Raises RecordError when a different file already holds a record's path.
    """
    add: list[Candidate] = []
    present: list[Candidate] = []
    over: list[tuple[Candidate, str]] = []
    for cand in sorted(candidates, key=lambda c: (c.result.created_at, c.path)):
        existing = on_store.get(cand.path)
        if existing == cand.blob:
            present.append(cand)
            continue
        if existing is not None:
            raise RecordError(
                "a different record is already stored under this evaluation id, and records "
                "are never overwritten; find what wrote it before re-running the record job",
                path=cand.path,
            )
        counted = [*store, *(c.result for c in add)]
        message = over_limit(challenges[cand.result.challenge], counted, cand.result)
        if message is None:
            add.append(cand)
        else:
            over.append((cand, message))
    return Admission(tuple(add), tuple(present), tuple(over))


def limits_left(
    challenges: Mapping[str, Challenge],
    store: Sequence[Result],
    candidates: Sequence[Candidate],
    now: datetime | None = None,
) -> tuple[LimitsLeft, ...]:
    """Each submitter's limits (of ``candidates``) with ``store`` counted: the store as it is
    once the records that landed are in it. A challenge with no open phase has none."""
    from runner.limits import remaining

    now = now or datetime.now(UTC)
    found = []
    whose = (c.result for c in candidates)
    for r in dict.fromkeys((r.challenge, r.participant, r.team, r.user_id) for r in whose):
        challenge_id, participant, team, user_id = r
        challenge = challenges.get(challenge_id)
        if challenge is None or challenge.phase_at(now) is None:
            continue
        status = remaining(challenge, store, participant, team, now, user_id)
        resets = status.resets_at.isoformat() if status.resets_at else None
        found.append(
            LimitsLeft(
                challenge_id, participant, team, status.left_today, status.left_total, resets
            )
        )
    return tuple(found)


def not_recorded_message(limit_message: str) -> str:
    return f"over the limit, not recorded: {limit_message}"


def outcome_of(
    admission: Admission | None,
    candidates: Sequence[Candidate],
    *,
    commit: str | None = None,
    error: str | None = None,
    attempts: int = 0,
    limits: tuple[LimitsLeft, ...] = (),
) -> Outcome:
    """The outcome to report. With ``error`` set, the records to add did not land (those
    already on the store did)."""
    fates: dict[str, Fate] = {
        c.path: Fate(c.key, c.result.evaluation_id, c.path, NOT_RECORDED) for c in candidates
    }
    if admission is not None:
        landed = admission.present + (admission.add if error is None else ())
        for c in landed:
            if c.path in fates:  # ours, not another job's folded in
                fates[c.path] = Fate(c.key, c.result.evaluation_id, c.path, LANDED)
        for c, message in admission.over_limit:
            text = not_recorded_message(message)
            if c.path in fates:
                fates[c.path] = Fate(c.key, c.result.evaluation_id, c.path, OVER_LIMIT, text)
    return Outcome(tuple(fates.values()), commit, error, attempts, limits)


def load_challenges(root: Path, candidates: Iterable[Candidate]) -> dict[str, Challenge]:
    """The challenges of the records, from the (trusted, base-branch) checkout at ``root``."""
    from runner.loader import load_challenge

    ids = sorted({c.result.challenge for c in candidates})
    return {cid: load_challenge(root / "challenges" / cid) for cid in ids}


def _is_file(candidate: Candidate) -> bool:
    return Path(candidate.path).is_file()


def copy_records(candidates: Sequence[Candidate], challenges: Mapping[str, Challenge]) -> Admission:
    """Local mode (no push): admit against the results folder the candidates' paths point
    into, and write what is admitted there (never overwriting)."""
    from runner.records import write_result

    on_store = {c.path: blob_id(Path(c.path).read_bytes()) for c in candidates if _is_file(c)}
    admission = admit(candidates, on_store, _local_store(candidates, challenges), challenges)
    for cand in admission.add:
        write_result(Path(cand.path).parents[3], cand.result)
    return admission


def record_locally(candidates: Sequence[Candidate], challenges: Mapping[str, Challenge]) -> Outcome:
    """``copy_records``, and the outcome with the limits of the folder as recorded."""
    admission = copy_records(candidates, challenges)
    store = _local_store(candidates, challenges)
    return outcome_of(admission, candidates, limits=limits_left(challenges, store, candidates))


def _local_store(
    candidates: Sequence[Candidate], challenges: Mapping[str, Challenge]
) -> list[Result]:
    from runner.records import load_results

    results = {Path(c.path).parents[3] for c in candidates}  # <results>/<c>/<p>/<name>/<id>
    return [r for d in results for cid in challenges for r in load_results(d, cid).results]
