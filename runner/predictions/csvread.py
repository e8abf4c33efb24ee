"""pyarrow's CSV reader on the predictions, and a diagnosis when it refuses the file.

The fast path is one multi-threaded ``read_csv``. Any pyarrow failure goes to ``diagnose``,
which always ends in a participant-safe ``PredictionsError`` naming the first bad line: not
UTF-8, a row longer than ``ROW_MAX`` (a missing line break, megabytes of padding, or a quote
that never closes), rows with the wrong number of fields, cells that are not numbers. Every
diagnostic pass reads the memory-mapped file in windows of ``WINDOW`` bytes and keeps at most
``SHOWN`` offending rows, so a hostile file costs bounded memory.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from runner.arrow import as_numpy, text_scalar
from runner.models import PredictionsSpec
from runner.predictions.source import utf8_message
from runner.predictions.text import SHOWN, cut, fail, human, more

ROW_MAX = 8 << 20  # pyarrow's block size: no row may be longer
WINDOW = 1 << 20
# Quote-aware block splitting: without it pyarrow silently drops the rows of a block that
# starts inside an unclosed quote (bench/bench_evaluate_large.py: no slower at 3M rows).
PARSE = pacsv.ParseOptions(newlines_in_values=True)
TYPES = {
    "probability": pa.float64(),
    "number": pa.float64(),
    "score": pa.float64(),
    "label": pa.string(),
}
NUMBER = re.compile(
    r"^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|infinity|nan)\s*$", re.I
)


def read_table(path: Path, data: mmap.mmap, spec: PredictionsSpec) -> pa.Table:
    convert = pacsv.ConvertOptions(
        column_types={spec.id_column: pa.string(), **{c.name: TYPES[c.kind] for c in spec.columns}}
    )
    read = pacsv.ReadOptions(block_size=ROW_MAX)
    try:
        return pacsv.read_csv(_reader(data), read, PARSE, convert)
    except pa.ArrowException as err:
        diagnose(path, data, spec, err)


def _reader(data: mmap.mmap) -> pa.BufferReader:
    return pa.BufferReader(pa.py_buffer(data))


def diagnose(path: Path, data: mmap.mmap, spec: PredictionsSpec, err: Exception) -> NoReturn:
    """Turn a pyarrow failure into a message naming the first bad lines (slow path only)."""
    detail = str(err)
    bad_utf8 = first_invalid_utf8(data)
    if bad_utf8:
        fail(path, utf8_message(*bad_utf8), detail=detail)
    _check_row_lengths(path, data, detail)
    try:
        rows, total = _invalid_rows(data)
    except pa.ArrowException:
        rows, total = [], 0
    if rows:
        _wrong_fields(path, rows, total, detail)
    for column in spec.columns:
        if column.kind != "label":
            try:
                _check_numbers(path, data, column.name)
            except pa.ArrowException:
                break
    fail(path, "the predictions file is not a valid CSV file", detail=detail)


def first_invalid_utf8(data: mmap.mmap | bytes | Path) -> tuple[int, int] | None:
    """(line, byte in line) of the first byte that is not UTF-8, or None.

    Reads windows of ``WINDOW`` bytes; at most 3 bytes of a split character carry over.
    """
    if isinstance(data, Path):
        with data.open("rb") as handle:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(data)
    start, line, line_start = 0, 1, 0
    while start < len(view):
        piece = bytes(view[start : start + WINDOW])
        try:
            piece.decode("utf-8")
            used = len(piece)
        except UnicodeDecodeError as err:
            incomplete = err.end == len(piece) and len(piece) - err.start < 4
            if not incomplete or start + len(piece) == len(view):
                at = piece.rfind(b"\n", 0, err.start)
                begin = line_start if at < 0 else start + at + 1
                return line + piece.count(b"\n", 0, err.start), start + err.start - begin + 1
            used = err.start  # a character split by the window: read it with the next one
        newline = piece.rfind(b"\n", 0, used)
        if newline >= 0:
            line += piece.count(b"\n", 0, used)
            line_start = start + newline + 1
        start += used
    return None


def _check_row_lengths(path: Path, data: mmap.mmap, detail: str) -> None:
    found = longest_row(data, ROW_MAX)
    if found is None:
        return
    line, spans = found
    if spans:
        fail(
            path,
            f'line {line} opens a quoted value (") that is not closed within '
            f"{human(ROW_MAX)}; close every quote, or write values without quotes",
            detail=detail,
        )
    fail(
        path,
        f"line {line} is longer than {human(ROW_MAX)}; write one row per line with only the "
        "declared columns (is a line break missing, or the file padded?)",
        detail=detail,
    )


def longest_row(data: mmap.mmap | bytes, limit: int) -> tuple[int, bool] | None:
    """``(line, spans lines)`` of the first CSV row longer than ``limit`` bytes, or None.

    A row ends at a line break outside double quotes (a quote toggles, so ``""`` inside a
    quoted value cancels out). One pass in windows: positions of quotes and line breaks only.
    """
    quotes_open, row_start, row_line, line = 0, 0, 1, 1
    for start in range(0, len(data), WINDOW):
        window = np.frombuffer(data, np.uint8, min(WINDOW, len(data) - start), start)
        breaks = np.flatnonzero(window == 10)
        quotes = np.flatnonzero(window == 34)
        closed = (quotes_open + np.searchsorted(quotes, breaks)) % 2 == 0
        ends = breaks[closed] + start
        starts = np.concatenate([[row_start], ends[:-1] + 1])
        long = np.flatnonzero(ends - starts > limit)
        if len(long):
            first = long[0]
            before = np.searchsorted(breaks + start, starts[first])
            first_line = row_line if first == 0 else line + int(before)
            return first_line, _spans(data, int(starts[first]), int(ends[first]))
        if len(ends):
            row_start = int(ends[-1]) + 1
            row_line = line + int(np.searchsorted(breaks + start, row_start))
        quotes_open = (quotes_open + len(quotes)) % 2
        line += len(breaks)
        if start + len(window) - row_start > limit:  # the open row is already too long
            return row_line, _spans(data, row_start, start + len(window))
    return None


def _spans(data: mmap.mmap | bytes, start: int, end: int) -> bool:
    return data.find(b"\n", start, min(end, start + ROW_MAX)) >= 0


def _invalid_rows(data: mmap.mmap) -> tuple[list, int]:
    """The first ``SHOWN`` rows with the wrong number of fields, and how many there are."""
    kept: list = []
    total = 0

    def keep(row: Any) -> str:
        nonlocal total
        total += 1
        if len(kept) < SHOWN:
            kept.append((row.number, row.expected_columns, row.actual_columns, "\n" in row.text))
        return "skip"

    # Single-threaded so pyarrow knows each row's line number.
    pacsv.read_csv(
        _reader(data),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=ROW_MAX),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep),
        convert_options=pacsv.ConvertOptions(column_types={}, include_columns=[]),
    )
    return kept, total


def _wrong_fields(path: Path, rows: list, total: int, detail: str) -> None:
    number, expected, _, spans = rows[0]
    if spans:
        fail(
            path,
            f'line {number} opens a quoted value (") that is not closed on that line; close '
            "every quote, or write values without quotes",
            detail=detail,
        )
    listed = "; ".join(f"line {n} has {a} fields" for n, _, a, _ in rows)
    fail(
        path,
        f"CSV rows with the wrong number of fields ({expected} expected): {listed}"
        f"{more(total)}; quote values that contain commas and write one value per column",
        detail=detail,
    )


def _check_numbers(path: Path, data: mmap.mmap, name: str) -> None:
    convert = pacsv.ConvertOptions(column_types={name: pa.string()}, include_columns=[name])
    read = pacsv.ReadOptions(block_size=ROW_MAX)
    values = pacsv.read_csv(_reader(data), read, PARSE, convert)
    values = values.column(name).combine_chunks()
    ok = pc.match_substring_regex(values, NUMBER.pattern, ignore_case=True)
    ok = pc.or_(ok, pc.equal(values, text_scalar("")))  # empty cells: reported later as missing
    bad = np.flatnonzero(~as_numpy(ok))
    if len(bad):
        listed = ", ".join(f"line {i + 2} has {cut(values[i].as_py(), 30)!r}" for i in bad[:SHOWN])
        fail(
            path,
            f"column {name!r} must hold numbers: {listed}{more(len(bad))}; "
            "write plain decimal numbers such as 0.25",
        )
