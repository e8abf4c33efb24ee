"""Who an entrant is: one definition for limits, rankings and selection (DESIGN §6).

A GitHub login is case-insensitive and can change (a rename keeps the numeric user id); a
team name is matched case-insensitively (``identity.find_team``). So records are grouped by
*keys*, never by the strings they carry:

* a person is ``id:<user id>`` when the record carries an id, or when another record ties
  the login to one (a local record of ``alice`` and a PR record of ``alice`` / id 42 are the
  same person), else ``login:<casefolded login>``;
* a team is ``team:<casefolded name>``.

So ``alice`` and ``ALICE`` are one entrant with one quota, and so are ``alice`` before and
``alice2`` after a rename (same id). A login that changed hands (same login, two ids) is two
entrants: each record's own id wins over the login map.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from runner.models import Result


@dataclass(frozen=True)
class Entrants:
    """The login -> user id map of a set of records, and the keys derived from it."""

    ids: dict[str, int] = field(default_factory=dict)  # casefolded login -> user id

    @classmethod
    def of(cls, results: Iterable[Result], known: Iterable[tuple[str, int]] = ()) -> Entrants:
        """The map of ``results``, then of ``known`` (login, user id) pairs that no record
        ties yet: a pull request's author, whose records so far may all lack an id."""
        ids: dict[str, int] = {}
        # Earliest first: a login reused by a new account keeps pointing at the first one
        # for records without an id (those predate the reuse or come from local runs).
        for result in sorted(results, key=lambda r: (r.created_at, r.evaluation_id)):
            if result.user_id is not None:
                ids.setdefault(result.participant.casefold(), result.user_id)
        for login, user_id in known:
            ids.setdefault(login.casefold(), user_id)
        return cls(ids)

    def person(self, login: str, user_id: int | None = None) -> str:
        """The key of the person ``login`` (with ``user_id`` when the caller knows it)."""
        uid = user_id if user_id is not None else self.ids.get(login.casefold())
        return f"id:{uid}" if uid is not None else f"login:{login.casefold()}"

    @staticmethod
    def team(name: str) -> str:
        return f"team:{name.casefold()}"

    def quota_keys(self, participant: str, team: str | None, user_id: int | None) -> frozenset:
        """Every quota a submission draws on: its person's and its team's."""
        keys = {self.person(participant, user_id)}
        if team:
            keys.add(self.team(team))
        return frozenset(keys)

    def of_result(self, result: Result) -> frozenset:
        return self.quota_keys(result.participant, result.team, result.user_id)

    def ranking_key(self, result: Result, best_of: str) -> str:
        """Who ranks: the team under ``best_of: team`` (when there is one), else the person."""
        if best_of == "team" and result.team:
            return self.team(result.team)
        return self.person(result.participant, result.user_id)
