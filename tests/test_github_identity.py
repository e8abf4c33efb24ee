"""Identity: manifest claims against the pull request's author, by numeric user id."""

from __future__ import annotations

import pytest

from runner.github.identity import Author, identity_problems, teams_from_bytes
from runner.loader import ValidationFailed
from runner.models import Team, TeamMember

TEAMS = {
    "owls": Team("owls", (TeamMember("alice", 1001), TeamMember("carol", 1003))),
    "legacy": Team("legacy", (TeamMember("dave"),)),  # no id recorded: login decides
}


def problems(participant, author, *, team=None, folder=None, known=None):
    return identity_problems(
        participant=participant,
        team=team,
        folder=folder or team or participant,
        author=author,
        teams=TEAMS,
        known_ids=known or {},
        base_ref="main",
    )


def test_author_submitting_as_themself():
    assert problems("alice", Author("alice", 1001)) == []


def test_a_case_variant_of_the_authors_login_is_refused_with_the_exact_spelling():
    """GitHub logins are case-insensitive, folders and record paths are not: one spelling."""
    assert problems("ALICE", Author("alice", 1001)) == [
        "participant 'ALICE' must be spelled exactly as your GitHub login: "
        "set participant: alice (and use the folder alice/)"
    ]
    assert problems("alice", Author("alice", 1001), folder="Alice") == [
        "the manifest is in folder 'Alice' but must be in submissions/<challenge>/alice/"
    ]
    # A renamed author keeps the old spelling the records hold, and only that one.
    assert problems("alice", Author("alice2", 1001), known={"alice": 1001}) == []
    assert problems("ALICE", Author("alice2", 1001), known={"alice": 1001}) == [
        "participant 'ALICE' is not the pull request's author 'alice2': set participant: alice2"
    ]


def test_a_team_name_must_be_spelled_as_teams_yaml_spells_it():
    assert problems("alice", Author("alice", 1001), team="OWLS") == [
        "team 'OWLS' is spelled 'owls' in teams.yaml: set team: owls",
        "the manifest is in folder 'OWLS' but must be in submissions/<challenge>/owls/",
    ]


def test_manifest_naming_another_login_is_refused():
    assert problems("bob", Author("alice", 1001)) == [
        "participant 'bob' is not the pull request's author 'alice': set participant: alice"
    ]


def test_renamed_login_keeps_its_folder_by_id():
    # alice renamed herself to alice2; earlier records tie "alice" to id 1001.
    assert problems("alice", Author("alice2", 1001), known={"alice": 1001}) == []


def test_same_login_different_id_is_refused():
    # The account "alice" (id 1001) was deleted and someone registered "alice" again.
    assert problems("alice", Author("alice", 5555), known={"alice": 1001}) == [
        "participant 'alice' belongs to GitHub user id 1001 in earlier results, but this pull "
        "request is by user id 5555; a login that changed hands cannot take over its old "
        "submissions: ask a maintainer"
    ]


def test_team_member_by_id_and_rename():
    assert problems("alice", Author("alice", 1001), team="owls") == []
    assert problems("carol2", Author("carol2", 1003), team="owls") == []  # renamed member


def test_team_the_author_is_not_in():
    assert problems("mallory", Author("mallory", 666), team="owls") == [
        "'mallory' (user id 666) is not a member of team 'owls' in teams.yaml on main"
    ]
    # Same login as a member but a different id: refused.
    assert problems("carol", Author("carol", 9999), team="owls") == [
        "'carol' (user id 9999) is not a member of team 'owls' in teams.yaml on main"
    ]


def test_unknown_team_and_wrong_folder():
    assert problems("alice", Author("alice", 1001), team="ravens") == [
        "team 'ravens' is not in teams.yaml on main; a maintainer adds teams there (a pull "
        "request cannot add itself to a team)"
    ]
    assert problems("alice", Author("alice", 1001), team="owls", folder="alice") == [
        "the manifest is in folder 'alice' but must be in submissions/<challenge>/owls/"
    ]


def test_team_member_without_id_matches_by_login():
    assert problems("dave", Author("dave", 77), team="legacy") == []


def test_teams_from_base_branch_bytes():
    raw = b"teams:\n  owls:\n    members:\n      - {login: alice, id: 1001}\n"
    teams = teams_from_bytes(raw)
    assert teams == {"owls": Team("owls", (TeamMember("alice", 1001),))}
    assert teams_from_bytes(None) == {}
    with pytest.raises(ValidationFailed):
        teams_from_bytes(b"teams: [1, 2]\n")
