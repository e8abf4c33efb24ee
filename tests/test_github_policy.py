"""Path policy against real git trees served by the loopback API."""

from __future__ import annotations

import pytest
from github_server import GitRepo, Pull, ServerState, Submodule, Symlink, client_for, serve

from runner.github.client import ChangedFile
from runner.github.identity import Author
from runner.github.policy import PolicyViolation, enforce, path_violations, split_path
from runner.models import Team, TeamMember

ALICE = Author("alice", 1001)
TEAMS = {"owls": Team("owls", (TeamMember("alice", 1001), TeamMember("carol", 1003)))}
CHALLENGES = ("bc", "diabetes")


@pytest.fixture
def api(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit(
        {
            "challenges/bc/challenge.yaml": "id: bc\n",
            "submissions/bc/bob/b.yaml": "participant: bob\n",
            "submissions/bc/alice/old.yaml": "participant: alice\n",
        },
        branch="main",
    )
    with serve(ServerState(repo)) as server:
        server.base = base
        yield server


def open_pr(api, files, *, number=5, author=ALICE):
    head = api.state.repo.commit(files, parent=api.base)
    api.state.pulls[number] = Pull(number, head, api.base, login=author.login, user_id=author.id)
    return head


def violations(api, files, author=ALICE, known_ids=None):
    head = open_pr(api, files, author=author)
    with pytest.raises(PolicyViolation) as info:
        enforce(client_for(api), 5, head, author, TEAMS, known_ids or {}, CHALLENGES)
    return [(v.path, v.message) for v in info.value.violations]


def test_own_and_team_folders_are_allowed(api):
    head = open_pr(
        api,
        {
            "submissions/bc/alice/gbm.yaml": "challenge: bc\nname: gbm\npredictions: gbm/p.csv\n",
            "submissions/bc/alice/gbm/preds.csv": "id,malignant\n1,0.5\n",
            "submissions/bc/owls/team.yaml": "team: owls\n",
            "submissions/bc/alice/old.yaml": None,  # deleting one's own file is fine
        },
    )
    files, _ = enforce(client_for(api), 5, head, ALICE, TEAMS, {}, CHALLENGES)
    assert sorted((f.filename, f.status) for f in files) == [
        ("submissions/bc/alice/gbm.yaml", "added"),
        ("submissions/bc/alice/gbm/preds.csv", "added"),
        ("submissions/bc/alice/old.yaml", "removed"),
        ("submissions/bc/owls/team.yaml", "added"),
    ]


def test_other_users_folder_and_challenge_files_are_refused(api):
    found = violations(
        api,
        {
            "submissions/bc/bob/mine-now.yaml": "participant: alice\n",
            "challenges/bc/challenge.yaml": "id: bc\nchanged: true\n",
            "teams.yaml": "owls: [alice]\n",
            "submissions/nope/alice/x.yaml": "x\n",
        },
    )
    assert found == [
        (
            "challenges/bc/challenge.yaml",
            "a submission pull request may only add or change files under "
            "submissions/<challenge>/alice/ (or your team's folder)",
        ),
        (
            "submissions/bc/bob/mine-now.yaml",
            "'alice' may not add or change files in submissions/bc/bob/: use "
            "submissions/bc/alice/ or a team folder you are a member of",
        ),
        ("submissions/nope/alice/x.yaml", "there is no challenge 'nope' (known: bc, diabetes)"),
        (
            "teams.yaml",
            "a submission pull request may only add or change files under "
            "submissions/<challenge>/alice/ (or your team's folder)",
        ),
    ]


def test_symlink_and_submodule_modes_are_refused(api):
    found = violations(
        api,
        {
            "submissions/bc/alice/preds.csv": Symlink("../../../challenges/bc/challenge.yaml"),
            "submissions/bc/alice/vendored": Submodule(),
            "submissions/bc/alice/ok.yaml": "participant: alice\n",
        },
    )
    assert found == [
        (
            "submissions/bc/alice/preds.csv",
            "is a symlink (git mode 120000); submissions may only contain regular files",
        ),
        (
            "submissions/bc/alice/vendored",
            "is a submodule (git mode 160000); submissions may only contain regular files",
        ),
    ]


def test_deleting_or_renaming_anothers_file_is_refused(api):
    assert violations(api, {"submissions/bc/bob/b.yaml": None}) == [
        (
            "submissions/bc/bob/b.yaml",
            "'alice' may not delete files in submissions/bc/bob/: use "
            "submissions/bc/alice/ or a team folder you are a member of",
        )
    ]


def test_rename_out_of_anothers_folder_checks_both_paths():
    files = [
        ChangedFile("submissions/bc/alice/b.yaml", "renamed", "submissions/bc/bob/b.yaml"),
    ]
    found = path_violations(files, ALICE, TEAMS, {}, CHALLENGES)
    assert [(v.path, v.message.split(":")[0]) for v in found] == [
        ("submissions/bc/bob/b.yaml", "'alice' may not rename files in submissions/bc/bob/")
    ]


def test_team_folder_needs_membership_by_id():
    files = [ChangedFile("submissions/bc/owls/x.yaml", "added")]
    # "mallory" claims carol's old login but has another id: not a member.
    assert path_violations(files, Author("carol", 9999), TEAMS, {}, CHALLENGES)
    # carol renamed to "carol2": same id, still a member.
    assert path_violations(files, Author("carol2", 1003), TEAMS, {}, CHALLENGES) == []


@pytest.mark.parametrize(
    "folder",
    ["ALICE", "Alice", "alice.", "\u0430lice", "alic\u0435", "OWLS", "owls.", "ａlice"],
)
def test_only_the_exact_login_or_team_name_is_a_writable_folder(folder):
    """Case variants, trailing dots and Unicode look-alikes of an allowed folder are refused."""
    files = [ChangedFile(f"submissions/bc/{folder}/x.yaml", "added")]
    [violation] = path_violations(files, ALICE, TEAMS, {}, CHALLENGES)
    if folder.isascii():
        assert violation.message == (
            f"'alice' may not add or change files in submissions/bc/{folder}/: use "
            "submissions/bc/alice/ or a team folder you are a member of"
        )
    else:  # not even a submission path: folder names are ASCII
        assert violation.message == (
            "a submission pull request may only add or change files under "
            "submissions/<challenge>/alice/ (or your team's folder)"
        )


@pytest.mark.parametrize(
    "path",
    [
        "submissions/bc/alice",
        "submissions/BC/alice/x.yaml",
        "submissions/bc/../alice/x.yaml",
        "submissions/bc/alice/../../bob/x.yaml",
        "submissions/bc/alice/a\nb.yaml",
        "submissions/bc/.hidden/x.yaml",
        "submissions/bc/alice/" + "/".join("d" * 9) + "/x",
    ],
)
def test_malformed_paths_are_not_submission_paths(path):
    assert split_path(path) is None


def test_too_many_files():
    files = [ChangedFile(f"submissions/bc/alice/{i}.csv", "added") for i in range(301)]
    found = path_violations(files, ALICE, TEAMS, {}, CHALLENGES)
    assert [str(v) for v in found] == ["(pull request): changes 301 files; at most 300 are allowed"]
