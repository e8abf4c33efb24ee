"""`validate` checks a predictions file against what is public, every problem in one pass.

The public list of test ids is ``public/sample_submission.csv`` (else ``public/test.csv``);
hidden data is never read. Each case asserts the exact output of `challenge-runner validate`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli import main
from runner.loader import load_repo

CHALLENGE = """\
id: pets
title: Pets
summary: Cats or dogs, and how sure.
maintainers: [maint]
data: {public: public/, hidden: {source: hidden/}}
predictions:
  id_column: id
  columns: {p: probability, kind: {kind: label, classes: [cat, dog]}}
metrics: [{name: log_loss, column: p}, {name: accuracy, column: kind}]
phases:
  - {id: open, start: 2026-01-01T00:00:00Z, end: 2026-06-01T00:00:00Z}
"""
IDS = [f"t{i:02d}" for i in range(1, 31)]
CSV = "submissions/pets/alice/first.csv"
PUBLIC = "challenges/pets/public/sample_submission.csv"


def rows(ids=IDS, p="0.5", kind="cat") -> str:
    return "".join(f"{i},{p},{kind}\n" for i in ids)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "challenges/pets/public").mkdir(parents=True)
    (root / "challenges/pets/hidden").mkdir()
    (root / "challenges/pets/challenge.yaml").write_text(CHALLENGE)
    (root / PUBLIC).write_text("id,p,kind\n" + rows())
    folder = root / "submissions/pets/alice"
    folder.mkdir(parents=True)
    (folder / "first.yaml").write_text(
        "challenge: pets\nparticipant: alice\nname: first\npredictions: first.csv\n"
    )
    return root


def validate(root: Path, content: str | bytes, capsys) -> tuple[int, list[str]]:
    path = root / CSV
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    code = main(["validate", "--root", str(root), str(root / "submissions/pets/alice/first.yaml")])
    return code, capsys.readouterr().out.splitlines()


FIX_IDS = f"write one row for every id listed in {PUBLIC}"
CASES = {
    "header id,label": (
        "id,label\n" + "".join(f"{i},cat\n" for i in IDS),
        [
            f"{CSV}:1:1: the header is `id,label` but must be `id,p,kind` (it lacks 'p', 'kind' "
            "and has unexpected 'label')",
        ],
    ),
    "wrongly cased header": (
        "ID,P,kind\n" + rows(),
        [
            f"{CSV}:1:1: the header is `ID,P,kind` but must be `id,p,kind` (it lacks 'id', 'p' "
            "and has unexpected 'ID', 'P'); names are case-sensitive: write 'ID' as 'id', "
            "'P' as 'p'",
        ],
    ),
    "extra column": (
        "id,p,kind,notes\n" + "".join(f"{i},0.5,dog,x\n" for i in IDS),
        [
            f"{CSV}:1:1: the header is `id,p,kind,notes` but must be `id,p,kind` (it has "
            "unexpected 'notes')",
        ],
    ),
    "wrongly cased labels": (
        "id,p,kind\n" + rows(IDS[:2], kind="Cat") + rows(IDS[2:], kind="DOG "),
        [
            f"{CSV}:2:1: column 'kind' has labels outside 'cat', 'dog': line 2 (id 't01') has "
            "'Cat', line 3 (id 't02') has 'Cat', line 4 (id 't03') has 'DOG ' and 27 more; use "
            "only those labels (they are case-sensitive: write 'Cat' as 'cat', 'DOG ' as 'dog')",
        ],
    ),
    "probabilities outside [0, 1]": (
        "id,p,kind\n" + rows(IDS[:1], p="-0.1") + rows(IDS[1:2], p="1.7") + rows(IDS[2:]),
        [
            f"{CSV}:2:1: column 'p' must hold probabilities between 0 and 1: line 2 (id 't01') "
            "has -0.1, line 3 (id 't02') has 1.7; write probabilities, not scores or logits",
        ],
    ),
    "20 missing rows": (
        "id,p,kind\n" + rows(IDS[:10]),
        [
            f"{CSV}: 20 test id(s) have no row, e.g. 't11', 't12', 't13' and 17 more; {FIX_IDS}",
        ],
    ),
    "duplicate ids": (
        "id,p,kind\n" + rows() + rows(IDS[:1]),
        [
            f"{CSV}:32:1: 1 id(s) appear more than once: 't01' on lines 2 and 32; write each id "
            "exactly once"
        ],
    ),
    "extra ids": (
        "id,p,kind\n" + rows() + rows(["t99", "7.0"]),
        [
            f"{CSV}:32:1: 2 id(s) are not test ids: line 32 (id 't99'), line 33 (id '7.0'); "
            f"write ids exactly as listed in {PUBLIC} (as text: '7', not '7.0')",
        ],
    ),
    "empty file": (
        "",
        [
            f"{CSV}: the file is empty; write the header `id,p,kind` and one row per test id "
            f"(30 ids, listed in {PUBLIC})",
        ],
    ),
    "header only": (
        "id,p,kind\n",
        [
            f"{CSV}: the file has a header but no rows; write one row per test id (30 ids, "
            f"listed in {PUBLIC})"
        ],
    ),
    "semicolons": (
        "id;p;kind\n" + rows().replace(",", ";"),
        [
            f"{CSV}:1:1: the file uses ';' as the delimiter; separate columns with commas: the "
            "header must be `id,p,kind`"
        ],
    ),
    "not UTF-8": (
        b"id,p,kind\nt01,0.5,caf\xe9\n",
        [f"{CSV}:2:1: the file is not valid UTF-8 (byte 12 of this line); save it as UTF-8 text"],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_validate_refuses_each_bad_predictions_file(repo: Path, capsys, case: str) -> None:
    content, expected = CASES[case]
    code, out = validate(repo, content, capsys)
    assert code == 1
    assert out == [*expected, f"1 file(s) checked: {len(expected)} problem(s)"]


def test_every_problem_is_reported_in_one_pass(repo: Path, capsys) -> None:
    content = (
        "id,p,kind,extra\n"
        + "".join(f"{i},0.5,Dog,1\n" for i in IDS[:8])  # wrong case, and 22 ids missing
        + "t01,nope,cat,1\n"  # a duplicate id with a value that is not a number
        + "t77,2,cat,1\n"  # an unknown id with a probability above 1
        + "t03,0.5,cat\n"  # a row that is a field short
    )
    code, out = validate(repo, content, capsys)
    assert code == 1
    assert out == [
        f"{CSV}:1:1: the header is `id,p,kind,extra` but must be `id,p,kind` (it has "
        "unexpected 'extra')",
        f"{CSV}:2:1: column 'kind' has labels outside 'cat', 'dog': line 2 (id 't01') has "
        "'Dog', line 3 (id 't02') has 'Dog', line 4 (id 't03') has 'Dog' and 5 more; use only "
        "those labels (they are case-sensitive: write 'Dog' as 'dog')",
        f"{CSV}:10:1: 1 id(s) appear more than once: 't01' on lines 2 and 10; write each id "
        "exactly once",
        f"{CSV}:10:1: column 'p' must hold numbers: line 10 has 'nope'; write plain decimal "
        "numbers such as 0.25",
        f"{CSV}:11:1: 1 id(s) are not test ids: line 11 (id 't77'); write ids exactly as listed "
        f"in {PUBLIC} (as text: '7', not '7.0')",
        f"{CSV}:11:1: column 'p' must hold probabilities between 0 and 1: line 11 (id 't77') "
        "has 2; write probabilities, not scores or logits",
        f"{CSV}:12:1: 1 row(s) do not have 4 fields: line 12 has 3; write one value per column "
        "and quote values that contain commas",
        f"{CSV}: 22 test id(s) have no row, e.g. 't09', 't10', 't11' and 19 more; {FIX_IDS}",
        "1 file(s) checked: 8 problem(s)",
    ]


def test_a_good_file_with_a_bom_and_crlf_passes(repo: Path, capsys) -> None:
    content = "\ufeffid,p,kind\r\n" + rows(reversed(IDS)).replace("\n", "\r\n")
    assert validate(repo, content, capsys) == (0, ["1 file(s) checked: all valid"])


def test_the_public_ids_come_from_test_csv_without_a_sample(repo: Path, capsys) -> None:
    (repo / PUBLIC).unlink()
    (repo / "challenges/pets/public/test.csv").write_text(
        "id,x\n" + "".join(f"{i},1\n" for i in IDS[:2])
    )
    code, out = validate(repo, "id,p,kind\n" + rows(IDS[:3]), capsys)
    assert code == 1
    assert out[0] == (
        f"{CSV}:4:1: 1 id(s) are not test ids: line 4 (id 't03'); write ids exactly as listed "
        "in challenges/pets/public/test.csv (as text: '7', not '7.0')"
    )


def test_without_a_public_id_list_ids_are_only_checked_for_duplicates(repo: Path, capsys) -> None:
    (repo / PUBLIC).unlink()
    assert validate(repo, "id,p,kind\n" + rows(IDS[:3]), capsys)[0] == 0


def test_a_refused_file_leaves_the_submission_out_of_the_repository(repo: Path) -> None:
    """What `validate` refuses, `run` and `pr prepare` never evaluate (they load the same way)."""
    (repo / CSV).write_text("id,p,kind\n" + rows(IDS[:10]))
    loaded = load_repo(repo)
    assert loaded.submissions == ()
    assert [p.path for p in loaded.problems] == [CSV]


def test_pr_prepare_marks_a_refused_file_invalid_so_it_is_not_evaluated(
    repo: Path, tmp_path: Path, capsys
) -> None:
    from runner.github.prepare import read_plan

    (repo / CSV).write_text("id,p,kind\n" + rows(IDS[:10], kind="Cat"))
    manifest = repo / "submissions/pets/alice/first.yaml"
    out = tmp_path / "prepared"
    code = main(["pr", "prepare", "--root", str(repo), "--out", str(out), "--check", str(manifest)])
    assert code == 1
    (item,) = read_plan(out).items
    assert (item.status, read_plan(out).ready) == ("invalid", ())
    assert [(p.path, p.line) for p in item.problems] == [(CSV, 2), (CSV, None)]
    assert item.problems[1].message.startswith("20 test id(s) have no row, e.g. 't11'")


@pytest.mark.parametrize("content", ['{"t01": 1}', "id", "\n\n", b"\x00\x01\x02"])
def test_a_file_pyarrow_cannot_frame_is_a_problem_not_a_crash(repo: Path, capsys, content):
    code, lines = validate(repo, content, capsys)
    assert code == 1  # a problem the participant can fix (a crash would be exit 3)
    assert any(CSV in line for line in lines)
