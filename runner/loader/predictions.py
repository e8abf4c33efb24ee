"""Check a predictions file against what is public, reporting every problem in one pass.

``runner.predictions.read_predictions`` (what scoring uses) stops at the first problem and
compares ids with the hidden truth. Before any evaluation, a participant deserves the whole
list, checked only against public information: the header, the column kinds, the label set
and the ids of the public test list (``<public>/sample_submission.csv``, else
``<public>/test.csv``; never hidden data). Each problem names the file, the line and the
column and says how to fix it.

The loader runs this for every predictions manifest, so ``validate``, ``pr prepare`` (which
turns a problem into "not evaluated, not counted") and local ``run`` refuse the same files.
When this finds nothing, ``read_predictions`` itself runs against the public ids as a
backstop: a file ``validate`` accepts is one scoring's own reader accepts.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from runner import models
from runner.arrow import as_numpy, from_numpy, text_array, text_scalar
from runner.errors import PredictionsError
from runner.predictions import check_file, expected_header, first_invalid_utf8, read_predictions

PUBLIC_ID_FILES = ("sample_submission.csv", "test.csv")  # searched in this order
SHOWN = 3  # offending rows named in a message
DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}
NUMBER = r"^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|infinity|nan)\s*$"


@dataclass(frozen=True)
class PublicIds:
    """The public list of test ids and the file it came from (repo-relative, for messages)."""

    ids: pa.Array
    source: str

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class CsvProblem:
    """One problem of a predictions file: ``line`` is the file's (header = 1), or None."""

    line: int | None
    message: str


def public_ids(challenge: models.Challenge, root: Path | None = None) -> PublicIds | None:
    """The test ids a participant can see, or None when the public folder lists none."""
    folder = challenge.public_dir
    if folder is None:
        return None
    for name in PUBLIC_ID_FILES:
        path = folder / name
        if path.is_file():
            stat = path.stat()
            ids = _read_ids(path, challenge.predictions.id_column, stat.st_mtime_ns, stat.st_size)
            if ids is not None:
                return PublicIds(ids, _relative(path, root))
    return None


def _relative(path: Path, root: Path | None) -> str:
    try:
        return path.relative_to(root).as_posix() if root else path.as_posix()
    except ValueError:
        return path.as_posix()


@functools.lru_cache(maxsize=32)
def _read_ids(path: Path, id_column: str, _mtime: int, _size: int) -> pa.Array | None:
    """The id column as text (cached per file version: load_repo checks many manifests)."""
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={id_column: pa.string()}, include_columns=[id_column]
            ),
        )
    except (pa.ArrowInvalid, KeyError, OSError):
        return None  # no such column or not a CSV: this file does not list the test ids
    return table.column(id_column).combine_chunks()


def check_predictions(
    path: Path, spec: models.PredictionsSpec, public: PublicIds | None
) -> list[CsvProblem]:
    """Every problem of the predictions file at ``path``, checked against ``public`` ids."""
    early = _check_bytes(path, spec, public)
    if early:
        return early
    try:  # what no CSV parser may see: bare CR line ends, archives, NUL, a link or FIFO
        check_file(path, spec)
    except PredictionsError as err:
        return [CsvProblem(None, err.message)]
    try:
        return _check_rows(path, spec, public)
    except (csv.Error, pa.ArrowException, ValueError, OverflowError):
        # A file crafted past this reader (bare CR line ends, a quote that never closes,
        # millions of columns): scoring's reader knows these and says what is wrong.
        return _backstop(path, spec, public) or [
            CsvProblem(None, "the file is not a valid CSV file; " + _rows_fix(public))
        ]


def _check_rows(
    path: Path, spec: models.PredictionsSpec, public: PublicIds | None
) -> list[CsvProblem]:
    header = _header(path)
    problems, names = _check_header(header, spec)
    if names is None:
        return problems
    try:
        table, bad_rows, fields = _read_rows(path, names)
    except pa.ArrowInvalid as err:  # e.g. one line with no line end: nothing pyarrow can frame
        reason = str(err).removeprefix("CSV parse error: ")
        fix = f"save it as a CSV whose first line is {expected_header(spec)}"
        return [*problems, CsvProblem(None, f"the file cannot be read as CSV ({reason}); {fix}")]
    problems += _field_count_problems(bad_rows, fields)
    lines = _line_numbers(table.num_rows, [r.number for r in bad_rows])
    if table.num_rows == 0:
        return [
            *problems,
            CsvProblem(None, f"the file has a header but no rows; {_rows_fix(public)}"),
        ]
    if spec.id_column in names:
        ids = table.column(spec.id_column).combine_chunks()
        problems += _id_problems(ids, lines, public)
    else:
        ids = None
    for column in spec.columns:
        if column.name in names:
            values = table.column(column.name).combine_chunks()
            problems += _value_problems(column, values, ids, lines)
    if not problems:
        problems = _backstop(path, spec, public)
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))  # in file order


def _rows_fix(public: PublicIds | None) -> str:
    if public is None:
        return "write one row per test id"
    return f"write one row per test id ({len(public)} ids, listed in {public.source})"


def _check_bytes(
    path: Path, spec: models.PredictionsSpec, public: PublicIds | None
) -> list[CsvProblem]:
    """Problems that leave nothing else to check: missing, empty, too big, not UTF-8."""
    try:
        size = path.stat().st_size
    except OSError:
        return [
            CsvProblem(
                None, "the file does not exist or cannot be read; add it beside the manifest"
            )
        ]
    if size == 0:
        return [
            CsvProblem(
                None,
                f"the file is empty; write the header `{expected_header(spec)}` and "
                f"{_rows_fix(public).removeprefix('write ')}",
            )
        ]
    if size > spec.max_bytes:
        return [
            CsvProblem(
                None,
                f"the file is {size} bytes, over the limit of {spec.max_bytes}; write only the "
                f"columns `{expected_header(spec)}`, one row per test id",
            )
        ]
    bad = first_invalid_utf8(path)
    if bad:
        return [
            CsvProblem(
                bad[0],
                f"the file is not valid UTF-8 (byte {bad[1]} of this line); save it as UTF-8 text",
            )
        ]
    return []


def _header(path: Path) -> str:
    with path.open("rb") as handle:
        line = handle.readline(1 << 16)
    return line.decode("utf-8", "replace").removeprefix("\ufeff").rstrip("\r\n")


def _check_header(text: str, spec: models.PredictionsSpec) -> tuple[list[CsvProblem], list | None]:
    """Header problems, and the column names to read rows with (None: rows cannot be read)."""
    wanted = [spec.id_column, *(c.name for c in spec.columns)]
    fix = f"the header must be `{expected_header(spec)}`"
    try:
        names = next(csv.reader([text])) if text else [""]
    except csv.Error as err:  # a bare CR (old Mac line ends) or an unterminated quote
        return [
            CsvProblem(
                1,
                f"the header line cannot be read as CSV ({err}); {fix}, and "
                "lines must end with LF or CRLF",
            )
        ], None
    if len(names) == 1 and len(wanted) > 1:
        for delimiter, label in DELIMITERS.items():
            if delimiter in text:
                message = (
                    f"the file uses {label} as the delimiter; separate columns with commas: {fix}"
                )
                return [CsvProblem(1, message)], None
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return [CsvProblem(1, f"the header repeats column(s) {_quoted(repeated)}; {fix}")], None
    missing = [n for n in wanted if n not in names]
    extra = [n for n in names if n not in wanted]
    if not missing and not extra:
        return [], names
    parts = []
    if missing:
        parts.append(f"lacks {_quoted(missing)}")
    if extra:
        parts.append(f"has unexpected {_quoted(extra)}")
    shown = _truncate(text, 200)
    message = (
        f"the header is `{shown}` but must be `{expected_header(spec)}` "
        f"(it {' and '.join(parts)}){_case_hint(missing, extra)}"
    )
    return [CsvProblem(1, message)], names


def _case_hint(missing: list[str], extra: list[str]) -> str:
    renames = [f"{e!r} as {m!r}" for m in missing for e in extra if e.strip().lower() == m.lower()]
    return f"; names are case-sensitive: write {', '.join(renames)}" if renames else ""


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(_truncate(n, 40)) for n in names)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_rows(path: Path, names: list[str]) -> tuple[Any, list, int]:
    """Every well-formed row as text, and the rows with a wrong number of fields."""
    bad: list = []

    def keep(row: Any) -> str:
        bad.append(row)
        return "skip"

    table = pacsv.read_csv(
        path,
        # Single-threaded so pyarrow knows each bad row's line number.
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    return table, bad, len(names)


def _field_count_problems(rows: list, fields: int) -> list[CsvProblem]:
    if not rows:
        return []
    return [
        _many(
            rows[0].number,
            f"{len(rows)} row(s) do not have {fields} fields:",
            (f"line {r.number} has {r.actual_columns}" for r in rows),
            len(rows),
            "write one value per column and quote values that contain commas",
        )
    ]


def _line_numbers(n_rows: int, skipped: list[int]) -> np.ndarray:
    """The file line of each kept row: header on line 1, skipped bad rows accounted for."""
    lines = np.arange(n_rows, dtype=np.int64) + 2
    for number in sorted(skipped):
        lines[lines >= number] += 1
    return lines


def _many(line: int | None, head: str, items: Iterable[str], total: int, fix: str) -> CsvProblem:
    """The one shape of a problem found on many rows: ``HEAD a, b, c and N more; FIX``,
    naming the first SHOWN of ``total`` offenders (``items`` is read no further)."""
    shown = ", ".join(islice(items, SHOWN))
    more = f" and {total - SHOWN} more" if total > SHOWN else ""
    return CsvProblem(line, f"{head} {shown}{more}; {fix}")


def _row(i: int | np.integer, lines: np.ndarray, ids: pa.Array | None) -> str:
    """``line N (id 'x')`` of kept row ``i`` (``ids`` None: the line alone)."""
    who = f" (id {_truncate(ids[int(i)].as_py(), 40)!r})" if ids is not None else ""
    return f"line {lines[i]}{who}"


def _id_problems(ids: pa.Array, lines: np.ndarray, public: PublicIds | None) -> list[CsvProblem]:
    problems = []
    empty = np.flatnonzero(as_numpy(pc.equal(ids, text_scalar(""))))
    if len(empty):
        problems.append(
            _many(
                int(lines[empty[0]]),
                f"{len(empty)} row(s) have an empty id:",
                (_row(i, lines, None) for i in empty),
                len(empty),
                "write the test id in the first column",
            )
        )
    problems += _duplicates(ids, lines)
    if public is not None:
        problems += _against_public(ids, lines, public)
    return problems


def _duplicates(ids: pa.Array, lines: np.ndarray) -> list[CsvProblem]:
    codes = as_numpy(pc.dictionary_encode(ids).indices)
    counts = np.bincount(codes)
    repeated = np.flatnonzero(counts > 1)
    if not len(repeated):
        return []

    def where(code: np.integer) -> str:
        rows = np.flatnonzero(codes == code)
        listed = " and ".join(str(lines[r]) for r in rows[:SHOWN])
        return f"{_truncate(ids[int(rows[0])].as_py(), 40)!r} on lines {listed}"

    first = int(lines[np.flatnonzero(counts[codes] > 1)[1]])
    return [
        _many(
            first,
            f"{len(repeated)} id(s) appear more than once:",
            (where(code) for code in repeated),
            len(repeated),
            "write each id exactly once",
        )
    ]


def _against_public(ids: pa.Array, lines: np.ndarray, public: PublicIds) -> list[CsvProblem]:
    problems = []
    # One hash of the public ids answers both questions (a second is_in doubled the time).
    positions = as_numpy(pc.index_in(ids, value_set=public.ids), fill=-1)
    unknown = np.flatnonzero(positions < 0)
    if len(unknown):
        problems.append(
            _many(
                int(lines[unknown[0]]),
                f"{len(unknown)} id(s) are not test ids:",
                (_row(i, lines, ids) for i in unknown),
                len(unknown),
                f"write ids exactly as listed in {public.source} (as text: '7', not '7.0')",
            )
        )
    missing = np.flatnonzero(np.bincount(positions[positions >= 0], minlength=len(public)) == 0)
    if len(missing):
        named = public.ids.take(from_numpy(missing[:SHOWN])).to_pylist()
        problems.append(
            _many(
                None,
                f"{len(missing)} test id(s) have no row, e.g.",
                (repr(_truncate(n, 40)) for n in named),
                len(missing),
                f"write one row for every id listed in {public.source}",
            )
        )
    return problems


def _value_problems(
    column: models.PredictionColumn, values: pa.Array, ids: pa.Array, lines: np.ndarray
) -> list[CsvProblem]:
    if column.kind == "label":
        return _label_problems(column, values, ids, lines)
    fast = _all_numbers(values)
    if fast is not None:  # the usual case: every cell is a number (or empty)
        checked = np.ones(len(values), dtype=bool)
        return _number_problems(column, fast, checked, ids, lines)
    trimmed = pc.utf8_trim_whitespace(values)
    matched = pc.match_substring_regex(trimmed, NUMBER, ignore_case=True)
    is_number = as_numpy(matched)
    empty = as_numpy(pc.equal(trimmed, text_scalar("")))
    problems = []
    text = np.flatnonzero(~is_number & ~empty)
    if len(text):
        problems.append(
            _many(
                int(lines[text[0]]),
                f"column {column.name!r} must hold numbers:",
                (f"line {lines[i]} has {_truncate(values[int(i)].as_py(), 30)!r}" for i in text),
                len(text),
                "write plain decimal numbers such as 0.25",
            )
        )
    numbers = np.full(len(values), np.nan)
    numbers[is_number] = [float(v) for v in trimmed.filter(matched).to_pylist()]
    problems += _number_problems(column, numbers, is_number | empty, ids, lines)
    return problems


def _all_numbers(values: pa.Array) -> np.ndarray | None:
    """The column as float64 (empty cells as NaN) when arrow can convert every cell, else None.

    A third of validate's time on a million rows (bench/bench_validate_predictions.py) went to
    matching each cell against a number pattern; a file that converts whole needs no pattern.
    """
    try:
        empty = pc.equal(values, text_scalar(""))
        cast = pc.if_else(empty, pa.scalar(None, pa.string()), values).cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return as_numpy(cast, fill=np.nan)


def _number_problems(
    column: models.PredictionColumn,
    numbers: np.ndarray,
    checked: np.ndarray,
    ids: pa.Array,
    lines: np.ndarray,
) -> list[CsvProblem]:
    problems = []
    bad = np.flatnonzero(checked & ~np.isfinite(numbers))
    if len(bad):
        problems.append(
            _many(
                int(lines[bad[0]]),
                f"column {column.name!r} has empty, NaN or infinite values at",
                (_row(i, lines, ids) for i in bad),
                len(bad),
                "every row needs a finite number",
            )
        )
    if column.kind == "probability":
        with np.errstate(invalid="ignore"):
            out = np.flatnonzero((numbers < 0) | (numbers > 1))
        if len(out):
            problems.append(
                _many(
                    int(lines[out[0]]),
                    f"column {column.name!r} must hold probabilities between 0 and 1:",
                    (f"{_row(i, lines, ids)} has {numbers[i]:g}" for i in out),
                    len(out),
                    "write probabilities, not scores or logits",
                )
            )
    return problems


def _label_problems(
    column: models.PredictionColumn, values: pa.Array, ids: pa.Array, lines: np.ndarray
) -> list[CsvProblem]:
    bad = pc.equal(values, text_scalar(""))
    if column.classes:
        bad = pc.or_(bad, pc.invert(pc.is_in(values, value_set=text_array(column.classes))))
    rows = np.flatnonzero(as_numpy(bad))
    if not len(rows):
        return []
    allowed = _quoted(list(column.classes)) if column.classes else "non-empty labels"
    return [
        _many(
            int(lines[rows[0]]),
            f"column {column.name!r} has labels outside {allowed}:",
            (f"{_row(i, lines, ids)} has {_truncate(values[int(i)].as_py(), 30)!r}" for i in rows),
            len(rows),
            f"use only those labels{_label_case_hint(column.classes, values, rows)}",
        )
    ]


def _label_case_hint(classes: tuple[str, ...], values: pa.Array, rows: np.ndarray) -> str:
    lower = {c.lower(): c for c in classes}
    found = dict.fromkeys(values.take(from_numpy(rows)).to_pylist())
    renames = [
        f"{v!r} as {lower[v.strip().lower()]!r}" for v in found if v.strip().lower() in lower
    ]
    if not renames:
        return ""
    return f" (they are case-sensitive: write {', '.join(renames[:SHOWN])})"


def _backstop(
    path: Path, spec: models.PredictionsSpec, public: PublicIds | None
) -> list[CsvProblem]:
    """Scoring's own reader, against the public ids: what it refuses, validate refuses."""
    try:
        read_predictions(path, spec, public.ids if public is not None else None)
    except PredictionsError as err:
        return [CsvProblem(None, err.message)]
    return []
