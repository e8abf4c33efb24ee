"""Validation of challenges, manifests and teams: every bad case gets its exact message."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from runner.cli import main
from runner.loader import ValidationFailed, load_challenge, load_repo, load_submission

BASE = Path(__file__).parent / "examples" / "base"
MANIFEST = "submissions/toy/alice/first.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    return root


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def problems(root: Path) -> list[str]:
    return [str(p) for p in load_repo(root).problems]


def manifest(**fields: str) -> str:
    base = {"challenge": "toy", "participant": "alice", "name": "first", "predictions": "first.csv"}
    base.update(fields)
    return "".join(f"{k}: {v}\n" for k, v in base.items() if v is not None)


def test_the_base_repository_is_valid(repo: Path) -> None:
    loaded = load_repo(repo)
    assert loaded.problems == ()
    assert list(loaded.challenges) == ["toy"]
    (sub,) = loaded.submissions
    assert (sub.participant, sub.name, sub.kind) == ("alice", "first", "predictions")
    assert sub.predictions == repo / "submissions/toy/alice/first.csv"
    assert loaded.teams["red"].has("bob", 42)
    assert loaded.files_checked == 3


MANIFEST_CASES = {
    "malformed yaml": (
        "challenge: toy\nparticipant: [alice\n",
        [f"{MANIFEST}:3:1: not valid YAML: did not find expected ',' or ']'"],
    ),
    "alias bomb": (
        'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
        [
            f"{MANIFEST}:1:4: anchors and aliases (&name, *name) are not allowed; "
            "write the value out in full"
        ],
    ),
    "python object tag": (
        "challenge: !!python/object/apply:os.system ['echo pwned']\n",
        [
            f"{MANIFEST}:1:12: the tag '!!python/object/apply:os.system' is not allowed; "
            "remove it (plain data only)"
        ],
    ),
    "unknown key": (
        manifest(colour="blue"),
        [
            f"{MANIFEST}:5:1: $.colour: unknown key 'colour': remove it or fix its spelling; "
            "allowed keys: baseline, build, challenge, code, command, description, image, "
            "links, name, participant, predictions, selected, team"
        ],
    ),
    "wrong type": (
        manifest(name="[1, 2]"),
        [
            f"{MANIFEST}:3:7: $.name: expected a string, got [1, 2] (Submission name; equals "
            "the manifest's file name without .yaml.)"
        ],
    ),
    "missing required field": (
        "challenge: toy\nname: first\npredictions: first.csv\n",
        [f"{MANIFEST}:1:1: $: missing required key 'participant': add it"],
    ),
    "name differs from file": (
        manifest(name="second"),
        [
            f"{MANIFEST}:3:7: $.name: name 'second' must equal the file name; "
            "rename the file to second.yaml or fix name"
        ],
    ),
    "escaping predictions path": (
        manifest(predictions="../../../challenges/toy/hidden/truth.csv"),
        [
            f"{MANIFEST}:4:14: $.predictions: '../../../challenges/toy/hidden/truth.csv' "
            "must not contain '..'; keep the file inside alice/"
        ],
    ),
    "absolute path": (
        manifest(predictions="/etc/passwd"),
        [f"{MANIFEST}:4:14: $.predictions: '/etc/passwd' must be a relative path inside alice/"],
    ),
    "image by tag": (
        manifest(predictions=None, image="python:3.11"),
        [
            f"{MANIFEST}:4:8: $.image: image 'python:3.11' is not pinned by digest; use "
            "name@sha256:<64 hex> (docker inspect --format '{{index .RepoDigests 0}}' IMAGE "
            "prints it)"
        ],
    ),
    "two kinds": (
        manifest(image="x@sha256:" + "a" * 64),
        [
            f"{MANIFEST}:5:8: $.image: give only one of predictions, image, build or code "
            "(found predictions and image)"
        ],
    ),
    "no kind": (
        manifest(predictions=None),
        [
            f"{MANIFEST}:1:1: $: give one of predictions (a CSV file), "
            "image (pinned by digest), build or code"
        ],
    ),
    "non-utf8": (
        b"challenge: toy\nparticipant: al\xe9ice\n",
        [f"{MANIFEST}:2:16: byte 0xe9 at offset 30 is not UTF-8; save the file as UTF-8"],
    ),
    "empty file": ("", [f"{MANIFEST}: file is empty; it must contain a YAML mapping"]),
    "not a mapping": (
        "- a\n- b\n",
        [f"{MANIFEST}:1:1: $: the file must be a YAML mapping (key: value lines)"],
    ),
    "team author is not in": (
        manifest(team="red"),
        [
            f"{MANIFEST}:5:7: $.team: team 'red' does not match the folder 'alice'; "
            "move the file to submissions/toy/red/first.yaml",
            f"{MANIFEST}:5:7: $.team: 'alice' is not a member of team 'red' in teams.yaml",
        ],
    ),
    "unknown challenge": (
        manifest(challenge="nope"),
        [
            f"{MANIFEST}:1:12: $.challenge: challenge 'nope' does not match the folder 'toy'; "
            "move the file to submissions/nope/alice/first.yaml",
            f"{MANIFEST}:1:12: $.challenge: no challenge 'nope' (known: toy)",
        ],
    ),
    "deep nesting": (
        manifest(description="[" * 40 + "]" * 40),
        [f"{MANIFEST}:5:45: nested more than 32 levels deep; flatten the structure"],
    ),
    "not a finite number": (
        "challenge: toy\nparticipant: alice\nname: first\npredictions: first.csv\nx: .nan\n",
        [f"{MANIFEST}:5:4: '.nan' is not a finite number; write a plain number"],
    ),
    "baseline by a participant": (
        manifest(baseline="true"),
        [
            f"{MANIFEST}:5:11: $.baseline: only the challenge's maintainers "
            "may mark a submission as baseline"
        ],
    ),
}


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=list(MANIFEST_CASES))
def test_bad_manifest(repo: Path, case: str) -> None:
    text, expected = MANIFEST_CASES[case]
    write(repo, MANIFEST, text)
    assert problems(repo) == expected


def test_ten_megabyte_manifest_is_refused_before_reading(repo: Path) -> None:
    write(repo, MANIFEST, "description: " + "x" * 10_000_000 + "\n")
    assert problems(repo) == [
        f"{MANIFEST}: file is 10,000,014 bytes; the limit is 65,536 (64 KiB). "
        "Keep manifests small: put data in a file beside them."
    ]


def test_manifest_in_the_wrong_folder(repo: Path) -> None:
    (repo / MANIFEST).unlink()
    write(repo, "submissions/toy/first.yaml", manifest())
    assert problems(repo) == [
        "submissions/toy/first.yaml:1:1: $: a manifest must live at "
        "submissions/<challenge>/<login-or-team>/<name>.yaml; move it to "
        "submissions/toy/alice/first.yaml",
        "submissions/toy/first.yaml:4:14: $.predictions: 'first.csv' does not exist in toy/; "
        "add it or fix the path",
    ]


def test_manifest_of_another_participant(repo: Path) -> None:
    write(repo, MANIFEST, manifest(participant="mallory"))
    assert problems(repo) == [
        f"{MANIFEST}:2:14: $.participant: participant 'mallory' does not match the folder "
        "'alice'; move the file to submissions/toy/mallory/first.yaml"
    ]


def test_symlinked_manifest(repo: Path) -> None:
    target = write(repo, "elsewhere.yaml", manifest())
    (repo / MANIFEST).unlink()
    os.symlink(target, repo / MANIFEST)
    assert problems(repo) == [f"{MANIFEST}: is a symbolic link; commit the file itself"]


def test_symlinked_predictions_file(repo: Path) -> None:
    data = repo / "submissions/toy/alice/first.csv"
    data.unlink()
    os.symlink(repo / "challenges/toy/hidden/truth.csv", data)
    assert problems(repo) == [
        f"{MANIFEST}:4:14: $.predictions: 'first.csv': first.csv is a symbolic link; "
        "commit the file itself"
    ]


def test_missing_predictions_file(repo: Path) -> None:
    (repo / "submissions/toy/alice/first.csv").unlink()
    assert problems(repo) == [
        f"{MANIFEST}:4:14: $.predictions: 'first.csv' does not exist in alice/; "
        "add it or fix the path"
    ]


CHALLENGE = "challenges/toy/challenge.yaml"


def edit_challenge(repo: Path, old: str, new: str) -> None:
    path = repo / CHALLENGE
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_overlapping_phases(repo: Path) -> None:
    edit_challenge(repo, "{id: late, start: 2026-06-01", "{id: late, start: 2026-05-01")
    assert problems(repo) == [
        f"{CHALLENGE}:15:23: $.phases[1].start: phase 'late' starts before phase 'open' ends "
        "(2026-06-01T00:00:00+00:00); phases must be in order and not overlap"
    ]


def test_unknown_metric(repo: Path) -> None:
    edit_challenge(repo, "{name: log_loss}", "{name: f2}")
    (problem,) = problems(repo)
    assert problem.startswith(
        f"{CHALLENGE}:12:12: $.metrics[1].name: unknown metric 'f2'; use one of accuracy, "
    )
    assert problem.endswith(", or declare it custom: true and compute it in scoring.py")


def test_metric_on_the_wrong_kind_of_column(repo: Path) -> None:
    edit_challenge(repo, "{name: log_loss}", "{name: rmse}")
    assert problems(repo) == [
        f"{CHALLENGE}:12:5: $.metrics[1]: metric 'rmse' needs a number column, "
        "but 'y' is a probability column"
    ]


def test_id_must_match_folder_and_time_needs_a_zone(repo: Path) -> None:
    edit_challenge(repo, "id: toy", "id: other")
    edit_challenge(repo, "end: 2026-07-01T00:00:00Z", "end: 2026-07-01T00:00:00")
    assert problems(repo) == [
        f"{CHALLENGE}:1:5: $.id: id 'other' must equal the folder name 'toy'",
        f"{CHALLENGE}:15:50: $.phases[1].end: '2026-07-01T00:00:00' is not a date-time with a "
        "zone; write it like 2026-12-01T00:00:00Z",
    ]


def test_private_phase_needs_a_recipient(repo: Path) -> None:
    edit_challenge(repo, "{id: late,", "{id: late, leaderboard: private,")
    assert problems(repo) == [
        f"{CHALLENGE}:6:11: $.data.hidden: a phase has a private leaderboard: add "
        "data.hidden.recipient (an age1... key) so private scores can be stored encrypted "
        "until the reveal"
    ]


def test_every_problem_is_reported_not_the_first(repo: Path) -> None:
    write(repo, MANIFEST, manifest(colour="blue", participant="[x]"))
    write(repo, "submissions/toy/alice/second.yaml", "")
    found = problems(repo)
    assert len(found) == 3
    assert {p.split(":")[0] for p in found} == {MANIFEST, "submissions/toy/alice/second.yaml"}


def test_load_functions_raise_with_every_problem(repo: Path) -> None:
    write(repo, MANIFEST, manifest(colour="blue", name="[1]"))
    with pytest.raises(ValidationFailed) as caught:
        load_submission(repo / MANIFEST, root=repo)
    assert len(caught.value.problems) == 2
    assert "2 problem(s):" in str(caught.value)
    challenge = load_challenge(repo / "challenges/toy")
    assert challenge.primary.name == "roc_auc"
    assert challenge.phase("late").start.isoformat() == "2026-06-01T00:00:00+00:00"


def test_yaml_inside_a_build_context_is_not_a_manifest(repo: Path) -> None:
    write(repo, "submissions/toy/alice/model/config.yaml", "anything: [1, 2]\n")
    assert problems(repo) == []


def test_the_real_repository_is_valid() -> None:
    root = Path(__file__).parent.parent
    loaded = load_repo(root)
    assert loaded.problems == ()
    assert set(loaded.challenges) == {"breast-cancer", "diabetes"}
    assert len(loaded.submissions) == 7


def test_validate_cli_exit_codes_and_formats(repo: Path, capsys) -> None:
    assert main(["validate", "--root", str(repo)]) == 0
    assert capsys.readouterr().out == "3 file(s) checked: all valid\n"
    write(repo, MANIFEST, manifest(name="other,name"))
    assert main(["validate", "--root", str(repo), "--format", "github"]) == 1
    assert capsys.readouterr().out == (
        "::error file=submissions/toy/alice/first.yaml,line=3,col=7,title=challenge-runner "
        "validate::$.name: 'other,name' does not match the required form "
        "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$ (Submission name; equals the manifest's file name "
        "without .yaml.)\n"
    )
    assert main(["validate", "--root", str(repo), "--format", "json"]) == 1
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["problems"][0]["line"] == 3
    assert report["problems"][0]["json_path"] == "$.name"


def test_validate_given_paths(repo: Path, capsys) -> None:
    write(repo, "submissions/toy/alice/bad.yaml", manifest(name="bad", predictions="nope.csv"))
    code = main(["validate", "--root", str(repo), str(repo / "submissions/toy/alice/bad.yaml")])
    assert code == 1
    assert capsys.readouterr().out == (
        "submissions/toy/alice/bad.yaml:4:14: $.predictions: 'nope.csv' does not exist in "
        "alice/; add it or fix the path\n1 file(s) checked: 1 problem(s)\n"
    )


def test_a_very_deep_file_is_refused_not_crashed(repo: Path) -> None:
    """30,000 levels in 60 KB overflowed the C parser's stack before the depth check."""
    write(repo, MANIFEST, "a: " + "[" * 30000 + "]" * 30000 + "\n")
    # Our depth check refuses it at level 33 (1:35); PyYAML >= 6.0.4 may refuse it first with
    # its own "exceeded maximum nesting depth". Either way: one problem naming the file's
    # first line, about nesting, and no crash.
    [problem] = problems(repo)
    assert problem.startswith(f"{MANIFEST}:1:"), problem
    assert re.search(r"nested more than 32 levels deep|maximum nesting depth", problem), problem


def test_integers_must_be_written_as_integers(repo: Path) -> None:
    edit_challenge(repo, "{id: late, start", "{id: late, selection: 2.0, start")
    assert problems(repo) == [
        f"{CHALLENGE}:15:27: $.phases[1].selection: expected an integer, got 2.0 "
        "(Number of submissions each participant selects for this phase's board (the latest "
        "ones unless marked).)"
    ]


def test_a_time_past_year_9999_is_a_problem_not_a_crash(repo: Path) -> None:
    edit_challenge(repo, "end: 2026-07-01T00:00:00Z", "end: 9999-12-31T23:00:00-05:00")
    assert problems(repo) == [
        f"{CHALLENGE}:15:50: $.phases[1].end: '9999-12-31T23:00:00-05:00' is not a date-time "
        "with a zone; write it like 2026-12-01T00:00:00Z"
    ]


def test_two_manifests_of_one_participant_with_one_name_clash(repo: Path) -> None:
    write(repo, "submissions/toy/red/first.yaml", manifest(participant="bob", team="red"))
    write(repo, "submissions/toy/red/first.csv", "id,y\n1,0.5\n")
    write(
        repo,
        "teams.yaml",
        "teams:\n  red:\n    members:\n      - {login: bob}\n      - {login: alice}\n",
    )
    assert problems(repo) == []
    write(repo, "submissions/toy/red/first.yaml", manifest(participant="alice", team="red"))
    assert problems(repo) == [
        "submissions/toy/red/first.yaml: $.name: alice already has a submission named 'first' "
        "in toy (submissions/toy/alice/first.yaml); results are filed by participant and name, "
        "so rename one"
    ]
    assert [s.path.parent.name for s in load_repo(repo).submissions] == ["alice"]


def test_schema_and_semantic_problems_are_reported_in_one_run(repo: Path) -> None:
    # A port at midnight: a misspelt key (schema), a metric that does not exist, a phase
    # that overlaps the previous one, and the wrong id (semantic) — all in one report.
    edit_challenge(repo, "title: Toy", "titel: Toy")
    edit_challenge(repo, "{name: log_loss}", "{name: f2}")
    edit_challenge(repo, "{id: late, start: 2026-06-01", "{id: late, start: 2026-05-01")
    edit_challenge(repo, "id: toy", "id: other")
    found = problems(repo)
    assert [p.split(": ")[1] for p in found] == [
        "$.titel",
        "$",
        "$.id",
        "$.phases[1].start",
        "$.metrics[1].name",
    ]
    assert found[1].endswith("$: missing required key 'title': add it")
    assert "unknown metric 'f2'" in found[4]


def test_a_part_the_schema_refused_gets_no_second_message(repo: Path) -> None:
    edit_challenge(repo, "{name: log_loss}", "{name: F2}")  # fails the schema's pattern
    found = problems(repo)
    assert len(found) == 1 and "$.metrics[1].name" in found[0]
    assert "unknown metric" not in found[0]


def test_a_last_phase_without_end_never_ends(repo: Path) -> None:
    edit_challenge(repo, ", end: 2026-07-01T00:00:00Z}", ", listed: false}")
    assert problems(repo) == []
    late = load_repo(repo).challenges["toy"].phases[1]
    assert late.open_ended and not late.listed
    assert late.contains(late.start.replace(year=9000))


def test_no_phase_can_follow_one_that_never_ends(repo: Path) -> None:
    edit_challenge(repo, ", end: 2026-06-01T00:00:00Z}", "}")
    assert problems(repo) == [
        f"{CHALLENGE}:14:5: $.phases[0]: phase 'open' never ends (no end:), so no phase can "
        "follow it; give it an end or make it the last phase"
    ]
