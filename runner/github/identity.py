"""Who may submit as whom: the pull request's author against a manifest's claims.

The author's login and numeric user id come from the event (``event.read_event``). A login
can change (renames) or be taken over after an account is deleted; the numeric id cannot.
So identity is decided by id wherever an id is known:

* ``participant:`` must be the author's login **spelled exactly** as GitHub spells it, unless
  earlier result records tie that exact login to the author's id (the author was renamed and
  keeps their folder). A login whose records carry a *different* id is refused even when it
  equals the author's login: the account behind it changed.
* ``team:`` must be a team in ``teams.yaml`` **on the base branch** (a PR cannot add itself
  to a team) that lists the author: by id when the entry has one, by login otherwise; and
  it must be spelled as ``teams.yaml`` spells it.
* The folder ``submissions/<challenge>/<folder>/`` must be the team's name, or else the
  participant's login, exactly.

Why exactly: GitHub treats ``alice`` and ``ALICE`` as one account, and so do limits and
rankings (``runner.entrants``), but folders, record paths and site pages are case-sensitive
strings; one spelling per entrant keeps every one of them single. The manifest schema
allows only ASCII letters, digits and ``-`` in a login (``_``/``.`` too in a team name), so
Unicode look-alikes and normalisation forms cannot name a folder, and ``may_write`` refuses
any folder that is not exactly an allowed name (a trailing dot, a homoglyph).
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
    """True when ``login`` is the author's, spelled exactly: their login with no other id on
    record for it, or a login the records tie to the author's id (a rename).

    ``known_ids`` maps logins as records spell them to user ids (``known_user_ids``).
    """
    if known_ids.get(login) == author.id:
        return True
    if login != author.login:
        return False
    others = {uid for known, uid in known_ids.items() if known.casefold() == login.casefold()}
    return not others or author.id in others


def _recorded_id(login: str, known_ids: Mapping[str, int]) -> int | None:
    return next((v for k, v in known_ids.items() if k.casefold() == login.casefold()), None)


def find_team(name: str, teams: Mapping[str, Team]) -> Team | None:
    """The team called ``name`` (GitHub-style: case-insensitive)."""
    return next((t for key, t in teams.items() if key.lower() == name.lower()), None)


def may_write(
    folder: str, author: Author, teams: Mapping[str, Team], known_ids: Mapping[str, int]
) -> bool:
    """Whether the author may add or change files in ``submissions/<challenge>/<folder>/``."""
    team = find_team(folder, teams)
    if team is not None and team.name == folder:
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
        problems.append(_participant_problem(participant, author, known_ids))
    found = None
    if team is not None:
        found = find_team(team, teams)
        problems += _team_problems(team, author, teams, base_ref)
    expected = (found.name if found else team) if team is not None else participant
    if folder != expected:
        problems.append(
            f"the manifest is in folder '{folder}' but must be in "
            f"submissions/<challenge>/{expected}/"
        )
    return problems


def _participant_problem(participant: str, author: Author, known_ids: Mapping[str, int]) -> str:
    recorded = _recorded_id(participant, known_ids)
    same_login = participant.casefold() == author.login.casefold()
    if same_login and recorded is not None and recorded != author.id:
        return (
            f"participant '{participant}' belongs to GitHub user id {recorded} in earlier "
            f"results, but this pull request is by user id {author.id}; a login that changed "
            "hands cannot take over its old submissions: ask a maintainer"
        )
    if participant.casefold() == author.login.casefold():
        return (
            f"participant '{participant}' must be spelled exactly as your GitHub login: "
            f"set participant: {author.login} (and use the folder {author.login}/)"
        )
    return (
        f"participant '{participant}' is not the pull request's author '{author.login}': "
        f"set participant: {author.login}"
    )


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
    if name != found.name:
        return [f"team '{name}' is spelled '{found.name}' in teams.yaml: set team: {found.name}"]
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
