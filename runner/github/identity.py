"""Who may submit as whom: the pull request's author against a manifest's claims.

The author's login and numeric user id come from the event (``event.read_event``). A login
can change (renames) or be taken over after an account is deleted; the numeric id cannot.
So identity is decided by id wherever an id is known:

* ``participant:`` must be the author's login, unless earlier result records tie that login
  to the author's id (the author was renamed and keeps their folder). A login whose records
  carry a *different* id is refused even when it equals the author's login: the account
  behind it changed.
* ``team:`` must be a team in ``teams.yaml`` **on the base branch** (a PR cannot add itself
  to a team) that lists the author: by id when the entry has one, by login otherwise.
* The folder ``submissions/<challenge>/<folder>/`` must be the team's name, or else the
  participant's login.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.models import Team


@dataclass(frozen=True)
class Author:
    """The pull request's author, from trusted event data."""

    login: str
    id: int


def owns_login(login: str, author: Author, known_ids: Mapping[str, int]) -> bool:
    """True when ``login`` is the author's: same login and no other id on record, or the id
    on record for ``login`` is the author's (a rename)."""
    recorded = known_ids.get(login.lower())
    if recorded is not None:
        return recorded == author.id
    return login.lower() == author.login.lower()


def find_team(name: str, teams: Mapping[str, Team]) -> Team | None:
    """The team called ``name`` (GitHub-style: case-insensitive)."""
    return next((t for key, t in teams.items() if key.lower() == name.lower()), None)


def may_write(
    folder: str, author: Author, teams: Mapping[str, Team], known_ids: Mapping[str, int]
) -> bool:
    """Whether the author may add or change files in ``submissions/<challenge>/<folder>/``."""
    team = find_team(folder, teams)
    if team is not None:
        return team.has(author.login, author.id)
    return owns_login(folder, author, known_ids)


def identity_problems(
    *,
    participant: str,
    team: str | None,
    folder: str,
    author: Author,
    teams: Mapping[str, Team],
    known_ids: Mapping[str, int],
    base_ref: str = "the base branch",
) -> list[str]:
    """Every reason the author may not submit this manifest (empty: allowed)."""
    problems = []
    if not owns_login(participant, author, known_ids):
        recorded = known_ids.get(participant.lower())
        if recorded is not None and participant.lower() == author.login.lower():
            problems.append(
                f"participant '{participant}' belongs to GitHub user id {recorded} in earlier "
                f"results, but this pull request is by user id {author.id}; a login that changed "
                "hands cannot take over its old submissions: ask a maintainer"
            )
        else:
            problems.append(
                f"participant '{participant}' is not the pull request's author '{author.login}': "
                f"set participant: {author.login}"
            )
    if team is not None:
        problems += _team_problems(team, author, teams, base_ref)
    expected = team if team is not None else participant
    if folder.lower() != expected.lower():
        problems.append(
            f"the manifest is in folder '{folder}' but must be in "
            f"submissions/<challenge>/{expected}/"
        )
    return problems


def _team_problems(
    name: str, author: Author, teams: Mapping[str, Team], base_ref: str
) -> list[str]:
    found = find_team(name, teams)
    if found is None:
        return [
            f"team '{name}' is not in teams.yaml on {base_ref}; a maintainer adds teams "
            "there (a pull request cannot add itself to a team)"
        ]
    if not found.has(author.login, author.id):
        return [
            f"'{author.login}' (user id {author.id}) is not a member of team '{found.name}' "
            f"in teams.yaml on {base_ref}"
        ]
    return []


def teams_from_bytes(data: bytes | None) -> dict[str, Team]:
    """Parse a ``teams.yaml`` read as data (from the base branch) with the loader's rules."""
    if data is None:
        return {}
    from runner.loader import load_teams  # the lead's loader owns the format

    with tempfile.TemporaryDirectory(prefix="cr-teams-") as tmp:
        path = Path(tmp) / "teams.yaml"
        path.write_bytes(data)
        return load_teams(path)
