"""Private-split scores: sealed in every record until the reveal, then made clear (DESIGN §3.5).

While a phase runs, a record's private-split scores exist only as ASCII-armored age encrypted
to the challenge's ``data.hidden.recipient`` (the ``private`` field); ``scores.private`` is
absent. ``seal_result`` is the one place that decides this, so the pipeline calls it on every
record before ``write_result``. After the reveal time, ``reveal`` decrypts each sealed record
with the maintainers' identity and writes a new clear record that ``supersedes`` it (records
are immutable; the original stays, and ``current_results`` hides it).

When is a record revealed? At the reveal time (``Phase.reveal_at``: ``reveal:`` or the end) of
the phase whose window holds its ``created_at`` (else the phase it names, else the latest
reveal of the challenge) -- and never before the reveal of any private-board phase still
running or to come when it was evaluated: the private split is shared across phases, so
revealing it early would let participants tune to the final ranking.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from runner.data import decrypt_text, encrypt_text
from runner.errors import ConfigError, DataError, RecordError
from runner.models import Challenge, Result, Score
from runner.records import (
    current_results,
    load_results,
    new_evaluation_id,
    result_path,
    scores_from_dict,
    scores_to_dict,
    write_result,
)

NEVER = datetime.max.replace(tzinfo=UTC)


def seal_private(scores_private: dict[str, Score], recipient: str) -> str:
    """The private-split scores as armored age text, readable only with the identity."""
    text = json.dumps(scores_to_dict(scores_private), sort_keys=True, allow_nan=False)
    return encrypt_text(text, recipient)


def open_private(blob: str, identity: str, *, path: str | None = None) -> dict[str, Score]:
    """Decrypt what ``seal_private`` made; RecordError naming the record when that fails."""
    try:
        data = json.loads(decrypt_text(blob, identity))
        return scores_from_dict(data)
    except DataError as err:
        raise RecordError(
            f"{err.message}; the identity must match the challenge's data.hidden.recipient",
            path=path,
        ) from err
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise RecordError(
            f"the sealed private scores are not a scores object ({err})", path=path
        ) from err


def reveal_time(challenge: Challenge, result: Result) -> datetime:
    """When ``result``'s private-split scores may be shown in clear (see the module doc)."""
    if not challenge.phases:
        return NEVER
    phase = challenge.phase_at(result.created_at) or (
        challenge.phase(result.phase) if result.phase else None
    )
    times = [phase.reveal_at] if phase else [max(p.reveal_at for p in challenge.phases)]
    times += [
        p.reveal_at
        for p in challenge.phases
        if p.leaderboard == "private" and p.end > result.created_at
    ]
    return max(times)


def seal_result(challenge: Challenge, result: Result, now: datetime) -> Result:
    """``result`` as it may be written now: clear private scores sealed before the reveal."""
    private = result.scores.get("private")
    if not private or now >= reveal_time(challenge, result):
        return result
    recipient = challenge.hidden.recipient
    if not recipient:
        raise ConfigError(
            f"challenge {challenge.id} has private-split scores to seal but no "
            "data.hidden.recipient: add the age1... public key of the challenge's key "
            "(printed by `challenge-runner data keygen`)"
        )
    public = {split: s for split, s in result.scores.items() if split != "private"}
    return replace(result, scores=public, private=seal_private(private, recipient))


def sealed_records(challenge: Challenge, results: Iterable[Result]) -> list[Result]:
    """The challenge's current records whose private scores are still encrypted."""
    mine = (r for r in results if r.challenge == challenge.id)
    return [r for r in current_results(mine) if r.private is not None]


@dataclass(frozen=True)
class Revealed:
    """What ``reveal`` did: the clear records it wrote, and a RecordError (naming the sealed
    record) for each due record it could not reveal."""

    written: tuple[Path, ...]
    problems: tuple[RecordError, ...]


def reveal(challenge: Challenge, results_dir: Path, identity: str, now: datetime) -> Revealed:
    """Write a clear record for every sealed record whose reveal time has passed.

    The new record keeps the original's ``created_at`` (so it stays in its phase window and
    keeps its tie-break order) and cache key, gets a new evaluation id, and ``supersedes``
    the original. A record that cannot be revealed (wrong key, damaged blob) does not stop
    the others: its RecordError is collected in ``problems`` and it stays sealed. Running it
    again writes nothing new for records already revealed. Refuses (RecordError) when
    records are sealed but none is due yet, saying when the first one is.
    """
    loaded = load_results(results_dir, challenge.id)
    sealed = sealed_records(challenge, loaded.results)
    due = [r for r in sealed if reveal_time(challenge, r) <= now]
    if sealed and not due:
        first = min(reveal_time(challenge, r) for r in sealed)
        raise RecordError(
            f"the private scores of {challenge.id} stay sealed until "
            f"{first:%Y-%m-%d %H:%M} UTC ({len(sealed)} records); run reveal again after that"
        )
    written, problems = [], []
    for record in due:
        try:
            written.append(_reveal_one(results_dir, record, identity, now))
        except RecordError as err:
            problems.append(err)
    return Revealed(tuple(written), tuple(problems))


def _reveal_one(results_dir: Path, result: Result, identity: str, now: datetime) -> Path:
    where = str(result_path(results_dir, result))
    private = open_private(result.private or "", identity, path=where)
    clear = replace(
        result,
        evaluation_id=new_evaluation_id(now),
        scores={**result.scores, "private": private},
        private=None,
        supersedes=result.evaluation_id,
    )
    return write_result(results_dir, clear)
