"""Private-split scores: sealed in every record until the reveal, then made clear (DESIGN §3.5).

Under the Ladder the same holds for the exact public scores: a record holds in clear only
what the Ladder releases (``ladder.withhold``); the exact public scores and loss stats are
sealed beside the private ones (``{"private": ..., "public": ..., "ladder": ...}``, where a
record sealed before the Ladder was covered holds the private scores alone) and revealed
with them.

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
from runner.models import Challenge, LadderStats, Result, Score
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


def _seal(sealed: dict, recipient: str) -> str:
    """Private scores alone in the original format; with withheld public ones, the v2 one."""
    if set(sealed) == {"private"}:
        return seal_private(sealed["private"], recipient)
    data = {"version": 2, **{k: scores_to_dict(v) for k, v in sealed.items() if k != "ladder"}}
    data["ladder"] = sealed.get("ladder")
    return encrypt_text(json.dumps(data, sort_keys=True, allow_nan=False), recipient)


def open_sealed(blob: str, identity: str, *, path: str | None = None) -> tuple[dict, dict | None]:
    """({split: scores}, ladder stats or None) from a record's sealed blob; RecordError
    naming the record when it cannot be read."""
    try:
        data = json.loads(decrypt_text(blob, identity))
        if data.get("version") != 2:
            return {"private": scores_from_dict(data)}, None
        splits = {k: scores_from_dict(data[k]) for k in ("private", "public") if k in data}
        return splits, data.get("ladder")
    except DataError as err:
        raise RecordError(
            f"{err.message}; the identity must match the challenge's data.hidden.recipient",
            path=path,
        ) from err
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise RecordError(
            f"the sealed private scores are not a scores object ({err})", path=path
        ) from err


def open_private(blob: str, identity: str, *, path: str | None = None) -> dict[str, Score]:
    """The private-split scores of a sealed blob (empty when it seals only public ones)."""
    return open_sealed(blob, identity, path=path)[0].get("private", {})


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


def seal_result(
    challenge: Challenge, result: Result, now: datetime, existing: Iterable[Result] = ()
) -> Result:
    """``result`` as it may be written now: clear private scores sealed before the reveal,
    and under the Ladder the exact public scores too (``existing``: the records so far, whose
    released scores the Ladder replays). Without a recipient, what must be sealed is dropped
    (private scores: refused)."""
    from runner.ladder import withhold

    due = now >= reveal_time(challenge, result)
    withheld = None
    if not due:
        result, withheld = withhold(challenge, result, existing)
    private = result.scores.get("private")
    sealed = {} if due or not private else {"private": private}
    if withheld is not None:
        sealed |= withheld
    if not sealed:
        return result
    recipient = challenge.hidden.recipient
    if not recipient and "private" not in sealed:
        return result  # nothing to seal exact Ladder scores to: they are not stored
    if not recipient:
        raise ConfigError(
            f"challenge {challenge.id} has private-split scores to seal but no "
            "data.hidden.recipient: add the age1... public key of the challenge's key "
            "(printed by `challenge-runner data keygen`)"
        )
    kept = {split: s for split, s in result.scores.items() if split != "private" or due}
    return replace(result, scores=kept, private=_seal(sealed, recipient))


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
    splits, ladder = open_sealed(result.private or "", identity, path=where)
    clear = replace(
        result,
        evaluation_id=new_evaluation_id(now),
        scores={**result.scores, **splits},
        ladder=LadderStats(**ladder) if ladder else result.ladder,
        private=None,
        supersedes=result.evaluation_id,
    )
    return write_result(results_dir, clear)
