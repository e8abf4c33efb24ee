"""Crafted predictions files never crash the trusted scorer (issue 9, item 4).

Each file below once ended in a traceback (exit 3, no record) or is a member of the same class:
line endings, encodings, sizes, quotes, field counts, numbers, and things that are not a file.
Every one must become a ``PredictionsError`` with a participant-safe message naming the line
and the fix. Through the whole ``challenge-runner evaluate`` command (a fresh interpreter, so a
crash would exit 3): a committed file is refused by the loader's check with exit 1, and a file
a container writes from hidden inputs gets an ``invalid`` record with the withheld reason (the
exact one sealed for maintainers). ``validate``'s own check never crashes on them either.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runner.errors import PredictionsError
from runner.models import PredictionColumn, PredictionsSpec
from runner.predictions import read_predictions

SPEC = PredictionsSpec("id", (PredictionColumn("p", "probability"),))
IDS = ["1", "2", "3", "4"]
GOOD = b"id,p\n1,0.1\n2,0.2\n3,0.3\n4,0.4\n"
MB = 1 << 20
REPO = Path(__file__).resolve().parent.parent


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("predictions.csv", GOOD)
    return out.getvalue()


def _row(n: int, extra: int) -> bytes:
    return b"%d,0.5%s\n" % (n, b",1" * extra)


FIX_CR = "save it with Unix (LF) or Windows (CRLF) line endings"
FIELDS = "quote values that contain commas and write one value per column"
LONG = (
    "write one row per line with only the declared columns (is a line break missing, or the "
    "file padded?)"
)
HOSTILE = {
    "cr_only_line_endings": (
        GOOD.replace(b"\n", b"\r"),
        f"the predictions file ends its lines with a bare carriage return (CR); {FIX_CR}",
    ),
    "cr_after_the_header_only": (
        b"id,p\r1,0.1\n2,0.2\n",
        f"the predictions file ends its lines with a bare carriage return (CR); {FIX_CR}",
    ),
    "unterminated_quote_then_megabytes": (
        b'id,p\n"1,0.1\n' + (b"2,0.2\n" * (2 * MB)),
        'line 2 opens a quoted value (") that is not closed within 8.0 MB; close every quote, '
        "or write values without quotes",
    ),
    "unterminated_quote_short": (
        b'id,p\n1,0.1\n"2,0.2\n3,0.3\n',
        'line 3 opens a quoted value (") that is not closed on that line; close every quote, '
        "or write values without quotes",
    ),
    "100_mb_of_trailing_spaces": (
        GOOD + b" " * (100 * MB),
        f"line 6 is longer than 8.0 MB; {LONG}",
    ),
    "15_mb_single_line": (
        b"id,p\n1,0.1\n" + b"2" * (15 * MB) + b",0.2\n",
        "1 id(s) are not in the test set: line 3 (id '222222222222222222222222222222222222222…'); "
        "predict exactly the ids of the test inputs",
    ),
    "two_million_column_row": (
        b"id,p\n1,0.1\n" + _row(2, 2_000_000),
        "CSV rows with the wrong number of fields (2 expected): line 3 has 2000002 fields; "
        + FIELDS,
    ),
    "ragged_rows_by_the_thousand": (
        b"id,p\n" + b"".join(_row(n, n % 3) for n in range(1, 30_001)),
        "CSV rows with the wrong number of fields (2 expected): line 2 has 3 fields; line 3 has "
        f"4 fields; line 5 has 3 fields and 19997 more; {FIELDS}",
    ),
    "header_with_two_million_columns": (
        b"id,p" + b",x" * 2_000_000 + b"\n1,0.1\n",
        "the header line is longer than 65536 bytes (a header with millions of columns?); the "
        "header must be `id,p`",
    ),
    "nul_bytes_in_a_value": (
        GOOD.replace(b"2,0.2", b"2,0.\x002"),
        "column 'p' must hold numbers: line 3 has '0.\\x002'; write plain decimal numbers such as "
        "0.25",
    ),
    "nul_bytes_in_an_id": (
        GOOD.replace(b"3,0.3", b"\x003,0.3"),
        "1 id(s) are not in the test set: line 4 (id '\\x003'); predict exactly the ids of the "
        "test inputs",
    ),
    "nul_bytes_only": (
        b"\0" * 5000,
        "the header line holds NUL bytes; save the file as UTF-8 text",
    ),
    "invalid_utf8": (
        GOOD.replace(b"3,0.3", b"3\xff,0.3"),
        "the predictions file is not valid UTF-8 (line 4, byte 2); save it as UTF-8 text",
    ),
    "utf16": (
        GOOD.decode().encode("utf-16"),
        "the predictions file is UTF-16 text, not a CSV file; save it as UTF-8 text",
    ),
    "gzip_renamed_csv": (
        gzip.compress(GOOD),
        "the predictions file is a gzip archive, not a CSV file; save it as UTF-8 text",
    ),
    "zip_renamed_csv": (
        _zip(),
        "the predictions file is a zip archive, not a CSV file; save it as UTF-8 text",
    ),
    "empty": (
        b"",
        "the predictions file is empty; it needs the header line `id,p` and one row per test id",
    ),
    "header_only_without_newline": (
        b"id,p",
        "the predictions file has a header but no rows; write one row per test id (4 rows)",
    ),
    "header_then_blank_lines": (
        b"id,p\n \n\n\t\n" + b" " * 1000,
        "the predictions file has a header but no rows; write one row per test id (4 rows)",
    ),
    "duplicate_header_names": (
        b"id,p,p\n1,0.1,0.1\n",
        "the header repeats column(s) 'p'; the header must be `id,p`",
    ),
    "bidi_override_in_header": (
        "id,\u202ep\n1,0.1\n".encode(),
        "the header lacks column(s) 'p'; the header must be `id,p` (found `id,\\u202ep`)",
    ),
    "quoted_newline_inside_an_id": (
        GOOD.replace(b"2,0.2", b'"2\n",0.2'),
        "1 id(s) are not in the test set: line 3 (id '2\\n'); id '2\\n' has surrounding spaces; "
        "write ids exactly as in the test inputs",
    ),
    "extremely_long_id": (
        GOOD.replace(b"4,0.4", b"4" * (5 * MB) + b",0.4"),
        "1 id(s) are not in the test set: line 5 (id '444444444444444444444444444444444444444…'); "
        "predict exactly the ids of the test inputs",
    ),
    "number_overflowing_to_inf": (
        GOOD.replace(b"2,0.2", b"2,1e400"),
        "column 'p' has empty, NaN or infinite values at line 3 (id '2'); every row needs a "
        "finite number",
    ),
    "nan": (
        GOOD.replace(b"2,0.2", b"2,nan"),
        "column 'p' has empty, NaN or infinite values at line 3 (id '2'); every row needs a "
        "finite number",
    ),
    "minus_inf": (
        GOOD.replace(b"2,0.2", b"2,-inf"),
        "column 'p' has empty, NaN or infinite values at line 3 (id '2'); every row needs a "
        "finite number",
    ),
    "hex_number": (
        GOOD.replace(b"2,0.2", b"2,0x1p-2"),
        "column 'p' must hold numbers: line 3 has '0x1p-2'; write plain decimal numbers such as "
        "0.25",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_crafted_file_is_invalid_with_a_message_naming_the_fix(name: str, tmp_path: Path) -> None:
    data, message = HOSTILE[name]
    path = tmp_path / "predictions.csv"
    path.write_bytes(data)
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, SPEC, IDS)
    assert caught.value.message == message


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + GOOD,
        GOOD.replace(b"\n", b"\r\n"),
        GOOD.replace(b"0.4", b"-0"),
        GOOD + b"\n" * 100_000,
    ],
    ids=["utf8_bom", "crlf", "minus_zero", "trailing_newlines"],
)
def test_harmless_variants_are_read(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "predictions.csv"
    path.write_bytes(data)
    predictions = read_predictions(path, SPEC, IDS)
    assert predictions.ids.to_pylist() == IDS
    assert predictions.columns["p"][:3].tolist() == [0.1, 0.2, 0.3]


def _not_a_file(kind: str, path: Path) -> None:
    if kind == "symlink_to_dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "symlink_to_a_good_file":
        (path.parent / "real.csv").write_bytes(GOOD)
        path.symlink_to(path.parent / "real.csv")
    elif kind == "fifo":
        os.mkfifo(path)  # opened non-blocking: no writer never hangs the scorer
    elif kind == "directory":
        path.mkdir()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "symlink_to_dev_zero",
            "the predictions file is a symbolic link; write a regular file instead",
        ),
        (
            "symlink_to_a_good_file",
            "the predictions file is a symbolic link; write a regular file instead",
        ),
        ("fifo", "the predictions file is not a regular file; write a plain CSV file"),
        ("directory", "the predictions file is not a regular file; write a plain CSV file"),
        ("missing", "the predictions file does not exist or cannot be read"),
    ],
)
def test_what_is_not_a_regular_file_is_refused(kind: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "predictions.csv"
    _not_a_file(kind, path)
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, SPEC, IDS)
    assert caught.value.message == message


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "predictions.csv"
    path.write_bytes(GOOD + b"5,0.5\n" * 2000)
    with pytest.raises(PredictionsError) as caught:
        read_predictions(path, SPEC, IDS, max_bytes=10_000)
    assert caught.value.message == (
        "the predictions file is 11.7 KB, over the limit of 9.8 KB; write only the columns "
        "`id,p`, one row per test id"
    )


# --- the whole command -------------------------------------------------------------------------

CLI_FILES = {
    "cr_only_line_endings": HOSTILE["cr_only_line_endings"][0],
    "two_million_column_row": HOSTILE["two_million_column_row"][0],
    "unterminated_quote_then_megabytes": HOSTILE["unterminated_quote_then_megabytes"][0],
}
WITHHELD = (
    "/output/predictions.csv does not match the challenge's format: a CSV with the header "
    "`id,malignant` and one row per test id. The exact reason is withheld because the file was "
    "written from hidden inputs; run your container on the public sample inputs to see it."
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "challenges", root / "challenges")
    shutil.copytree(REPO / "submissions", root / "submissions")
    shutil.copy(REPO / "teams.yaml", root / "teams.yaml")
    return root


def _evaluate(manifest: Path, repo: Path, cache: Path) -> subprocess.CompletedProcess:
    """The command in a fresh interpreter: a crash would exit 3."""
    return subprocess.run(
        [sys.executable, "-m", "runner", "evaluate", str(manifest), "--root", str(repo),
         "--no-limits", "--json"],
        capture_output=True, text=True, cwd=repo,
        env=dict(os.environ, CHALLENGE_RUNNER_CACHE=str(cache)),
    )  # fmt: skip


@pytest.mark.parametrize("name", list(CLI_FILES))
def test_evaluate_refuses_a_crafted_file_with_exit_1_never_a_crash(
    name: str, repo: Path, tmp_path: Path
) -> None:
    """The loader's predictions check (what `validate` and `pr prepare` run) refuses these
    before anything is evaluated or recorded, with scoring's own message, and never crashes."""
    folder = repo / "submissions/breast-cancer/mona"
    (folder / "crafted.csv").write_bytes(CLI_FILES[name].replace(b"id,p", b"id,malignant", 1))
    manifest = folder / "crafted.yaml"
    manifest.write_text(
        "challenge: breast-cancer\nparticipant: mona\nname: crafted\npredictions: crafted.csv\n"
    )
    done = _evaluate(manifest, repo, tmp_path / "cache")
    # validate's check of the file against the public ids refuses it before evaluation
    # (issue 11: a file validate refuses is never evaluated, so never counted): exit 1 with a
    # problem naming the file, never a crash (exit 3), and no record.
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert "submissions/breast-cancer/mona/crafted.csv" in done.stderr + done.stdout
    assert not (repo / "results/breast-cancer/mona/crafted").exists()


CONTAINER_WRITES = {  # what the container's predict.py writes to /output/predictions.csv
    "cr_only_line_endings": "b'id,malignant\\r' + b'1,0.5\\r' * 1000",
    "two_million_column_row": "b'id,malignant\\n1,0.1\\n2,0.5' + b',1' * 2_000_000 + b'\\n'",
    "unterminated_quote_then_megabytes": "b'id,malignant\\n\"1,0.1\\n' + b'2,0.2\\n' * (2 << 20)",
}


@pytest.mark.docker
@pytest.mark.parametrize("name", list(CONTAINER_WRITES))
def test_a_container_writing_a_crafted_file_gets_an_invalid_record(
    name: str, repo: Path, tmp_path: Path, python_image: str
) -> None:
    from runner.data import decrypt_text

    model = repo / "submissions/breast-cancer/hubot/model/predict.py"
    model.write_text(f"open('/output/predictions.csv', 'wb').write({CONTAINER_WRITES[name]})\n")
    manifest = repo / "submissions/breast-cancer/hubot/small-logreg.yaml"
    done = _evaluate(manifest, repo, tmp_path / "cache")
    assert done.returncode == 1, done.stderr
    record = json.loads(done.stdout)
    assert (record["status"], record["message"]) == ("invalid", WITHHELD)
    written = list((repo / "results/breast-cancer/hubot/small-logreg").glob("*.json"))
    assert [json.loads(p.read_text())["status"] for p in written] == ["invalid"]
    identity = (repo / "challenges/breast-cancer/demo-key.txt").read_text()
    assert decrypt_text(record["detail"], identity) == HOSTILE[name][1].replace(
        "'p'", "'malignant'"
    )


@pytest.mark.parametrize("name", list(HOSTILE))
def test_validate_checks_a_crafted_file_without_crashing(name: str, tmp_path: Path) -> None:
    from runner.loader.predictions import check_predictions

    path = tmp_path / "predictions.csv"
    path.write_bytes(HOSTILE[name][0])
    problems = check_predictions(path, SPEC, None)  # no public ids: ids cannot be judged
    assert all(p.message for p in problems)
