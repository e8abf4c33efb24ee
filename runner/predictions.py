"""Read a participant's predictions CSV and validate it before any metric runs.

Checks, in order, each ending in a ``PredictionsError`` whose message is safe to show the
participant (it names the problem, the first offending lines and ids, and how to fix it, and
never a truth value): file size (before reading), empty file, header (length, UTF-8,
delimiter, columns), CSV structure and cell types (pyarrow's multi-threaded reader), row cap,
ids (duplicates, ids not in the test set — with a hint when ``1.0`` was written for ``1`` —
and missing ids), then values (NaN/inf, probabilities outside [0, 1], unknown labels).

Ids are compared as exact text: ``1.0``, `` 1`` and ``01`` are not the id ``1``. Line numbers
are the file's, with the header on line 1. When ``truth_ids`` is given, the returned
``Predictions`` are in truth order (row i predicts ``truth_ids[i]``), so scoring needs no
further join.

pandas is never imported here (it costs a quarter second of every evaluation): only
``Predictions.to_pandas`` loads it, for a challenge's own ``scoring.py``. pyarrow's own
converters (``pa.array``, ``pa.scalar``, ``to_numpy``, compute calls given Python values) import
pandas on first use, so arrays cross between arrow and numpy through ``runner.arrow``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from runner.arrow import as_numpy, from_numpy, label_values, text_array, text_scalar
from runner.errors import PredictionsError
from runner.models import PredictionsSpec

if TYPE_CHECKING:
    import pandas as pd

HEADER_MAX = 64 * 1024  # far above any header a challenge declares
SHOWN = 3  # offending rows named in a message
OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}
TYPES = {"probability": pa.float64(), "number": pa.float64(), "label": pa.string()}


@dataclass(frozen=True)
class Predictions:
    """Validated predictions: ids as arrow text, each declared column as a numpy array
    (float64 for probabilities and numbers, Python ``str`` objects for labels), in spec order."""

    id_column: str
    ids: pa.Array
    columns: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    def to_pandas(self) -> pd.DataFrame:
        """The frame a challenge's ``scoring.py`` receives: ``str`` ids and labels, float64
        numbers (imports pandas: keep it off the registry-metric path)."""
        import pandas as pd

        data = {self.id_column: pd.array(self.ids, dtype="str")}
        for name, values in self.columns.items():
            data[name] = pd.array(values, dtype="str") if values.dtype == object else values
        return pd.DataFrame(data, copy=False)


def read_predictions(
    path: Path,
    spec: PredictionsSpec,
    truth_ids: pa.Array | Sequence[str] | None = None,
    *,
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> Predictions:
    """The validated predictions: the id column (text) and the declared columns.

    Raises ``PredictionsError`` (participant-safe ``message``) for any problem.
    """
    path = Path(path)
    _check_size(path, spec.max_bytes if max_bytes is None else max_bytes, spec)
    _check_header(path, spec)
    table = _read_table(path, spec)
    if table.num_rows == 0:
        count = f" ({len(truth_ids)} rows)" if truth_ids is not None else ""
        _fail(
            path, f"the predictions file has a header but no rows; write one row per test id{count}"
        )
    if max_rows is not None and table.num_rows > max_rows:
        _fail(path, f"the predictions file has {table.num_rows} rows, over the limit of {max_rows}")
    ids = table.column(spec.id_column).combine_chunks()
    truth = None if truth_ids is None else _id_array(truth_ids).cast(ids.type)
    order = _match_ids(path, ids, truth)
    columns = {c.name: _check_values(path, c, table.column(c.name), ids) for c in spec.columns}
    return _reorder(spec, ids, columns, truth, order)


def expected_header(spec: PredictionsSpec) -> str:
    return ",".join([spec.id_column, *(c.name for c in spec.columns)])


def _fail(path: Path, message: str, detail: str | None = None):
    raise PredictionsError(message, path=path.name, detail=detail)


def _human(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _check_size(path: Path, limit: int, spec: PredictionsSpec) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        _fail(path, "the predictions file does not exist or cannot be read")
    if size > limit:
        _fail(
            path,
            f"the predictions file is {_human(size)}, over the limit of {_human(limit)}; "
            f"write only the columns `{expected_header(spec)}`, one row per test id",
        )
    if size == 0:
        _fail(
            path,
            f"the predictions file is empty; it needs the header line `{expected_header(spec)}` "
            "and one row per test id",
        )


def _check_header(path: Path, spec: PredictionsSpec) -> None:
    with path.open("rb") as handle:
        head = handle.read(HEADER_MAX + 1)
    end = head.find(b"\n")
    if end < 0 and len(head) > HEADER_MAX:
        _fail(
            path,
            f"the header line is longer than {HEADER_MAX} bytes (a header with millions of "
            f"columns?); the header must be `{expected_header(spec)}`",
        )
    line = head if end < 0 else head[:end]
    try:
        text = line.decode("utf-8").removeprefix("\ufeff").rstrip("\r")
    except UnicodeDecodeError as err:
        _fail(path, _utf8_message(1, err.start + 1))
    _check_names(path, next(csv.reader([text])) if text else [""], text, spec)


def _check_names(path: Path, names: list[str], text: str, spec: PredictionsSpec) -> None:
    wanted = [spec.id_column, *(c.name for c in spec.columns)]
    fix = f"the header must be `{expected_header(spec)}`"
    if len(names) == 1 and len(wanted) > 1:
        for delimiter, label in OTHER_DELIMITERS.items():
            if delimiter in text:
                _fail(
                    path,
                    f"the file uses {label} as the delimiter; separate columns with commas: {fix}",
                )
    found = f" (found `{_truncate(','.join(names[:10]), 200)}`)"
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        _fail(path, f"the header repeats column(s) {_names(repeated)}; {fix}")
    if spec.id_column not in names:
        _fail(path, f"the header has no id column {spec.id_column!r}; {fix}{found}")
    missing = [n for n in wanted if n not in names]
    if missing:
        _fail(path, f"the header lacks column(s) {_names(missing)}; {fix}{found}")
    extra = [n for n in names if n not in wanted]
    if extra:
        _fail(path, f"the header has unexpected column(s) {_names(extra[:5])}; {fix}")


def _names(names: list[str]) -> str:
    return ", ".join(repr(_truncate(n, 40)) for n in names)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_table(path: Path, spec: PredictionsSpec) -> pa.Table:
    convert = pacsv.ConvertOptions(
        column_types={spec.id_column: pa.string(), **{c.name: TYPES[c.kind] for c in spec.columns}}
    )
    read = pacsv.ReadOptions(block_size=8 << 20)
    try:
        return pacsv.read_csv(path, read_options=read, convert_options=convert)
    except pa.ArrowInvalid as err:
        _diagnose(path, spec, err)
        raise  # unreachable: _diagnose always raises


def _diagnose(path: Path, spec: PredictionsSpec, err: pa.ArrowInvalid) -> None:
    """Turn a pyarrow failure into a message naming the first bad lines (slow path only)."""
    bad_utf8 = first_invalid_utf8(path)
    if bad_utf8:
        _fail(path, _utf8_message(*bad_utf8), detail=str(err))
    rows = _invalid_rows(path)
    if rows:
        shown = "; ".join(f"line {r.number} has {r.actual_columns} fields" for r in rows[:SHOWN])
        expected = rows[0].expected_columns
        _fail(
            path,
            f"CSV rows with the wrong number of fields ({expected} expected): {shown}; "
            "quote values that contain commas and write one value per column",
            detail=str(err),
        )
    for column in spec.columns:
        if column.kind != "label":
            _check_numbers(path, spec, column.name)
    _fail(path, "the predictions file is not a valid CSV file", detail=str(err))


def _utf8_message(line: int, byte: int) -> str:
    return (
        f"the predictions file is not valid UTF-8 (line {line}, byte {byte}); save it as UTF-8 text"
    )


def first_invalid_utf8(path: Path) -> tuple[int, int] | None:
    """(line, byte in line) of the first byte that is not UTF-8, or None."""
    line_base, carry = 1, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1 or len(data)
            piece, carry = data[:cut], data[cut:]
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError as err:
                line_start = piece.rfind(b"\n", 0, err.start) + 1
                return line_base + piece.count(b"\n", 0, err.start), err.start - line_start + 1
            line_base += piece.count(b"\n")
    try:
        carry.decode("utf-8")
    except UnicodeDecodeError as err:
        return line_base, err.start + 1
    return None


def _invalid_rows(path: Path) -> list:
    rows: list = []

    def keep(row) -> str:
        rows.append(row)
        return "skip"

    # Single-threaded so pyarrow knows each row's line number.
    pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep),
        convert_options=pacsv.ConvertOptions(column_types={}, include_columns=[]),
    )
    return rows


NUMBER = re.compile(
    r"^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|infinity|nan)\s*$", re.I
)


def _check_numbers(path: Path, spec: PredictionsSpec, name: str) -> None:
    convert = pacsv.ConvertOptions(column_types={name: pa.string()}, include_columns=[name])
    values = pacsv.read_csv(path, convert_options=convert).column(name).combine_chunks()
    ok = pc.match_substring_regex(values, NUMBER.pattern, ignore_case=True)
    ok = pc.or_(ok, pc.equal(values, text_scalar("")))  # empty cells: reported later as missing
    bad = np.flatnonzero(~as_numpy(ok))
    if len(bad):
        shown = ", ".join(
            f"line {i + 2} has {_truncate(values[i].as_py(), 30)!r}" for i in bad[:SHOWN]
        )
        _fail(
            path,
            f"column {name!r} must hold numbers: {shown}{_more(len(bad))}; "
            "write plain decimal numbers such as 0.25",
        )


def _more(total: int) -> str:
    return f" and {total - SHOWN} more" if total > SHOWN else ""


def _rows(rows: np.ndarray, ids: pa.Array) -> str:
    return ", ".join(f"line {i + 2} (id {_truncate(ids[i].as_py(), 40)!r})" for i in rows[:SHOWN])


def _check_values(path: Path, column, values: pa.ChunkedArray, ids: pa.Array):
    """The column's values once checked: a text array for labels, else float64 numbers."""
    name = column.name
    if column.kind == "label":
        labels = values.combine_chunks()
        bad = pc.equal(labels, text_scalar(""))
        if column.classes:
            bad = pc.or_(bad, pc.invert(pc.is_in(labels, value_set=text_array(column.classes))))
        rows = np.flatnonzero(as_numpy(bad))
        if len(rows):
            allowed = _names(list(column.classes)) if column.classes else "non-empty labels"
            _fail(
                path,
                f"column {name!r} has labels outside {allowed}: {_rows(rows, ids)}"
                f"{_more(len(rows))}; use only those labels",
            )
        return labels
    numbers = as_numpy(values, fill=np.nan)  # an empty cell is a null: NaN, reported here
    rows = np.flatnonzero(~np.isfinite(numbers))
    if len(rows):
        _fail(
            path,
            f"column {name!r} has empty, NaN or infinite values at {_rows(rows, ids)}"
            f"{_more(len(rows))}; every row needs a finite number",
        )
    if column.kind == "probability":
        rows = np.flatnonzero((numbers < 0) | (numbers > 1))
        if len(rows):
            shown = ", ".join(
                f"{_rows(rows[i : i + 1], ids)} has {numbers[rows[i]]:g}"
                for i in range(min(SHOWN, len(rows)))
            )
            _fail(
                path,
                f"column {name!r} must hold probabilities between 0 and 1: {shown}"
                f"{_more(len(rows))}",
            )
    return numbers


def _id_array(values: pa.Array | pa.ChunkedArray | Sequence[str]) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    return values if isinstance(values, pa.Array) else text_array(values)


def _match_ids(path: Path, ids: pa.Array, truth: pa.Array | None) -> np.ndarray | None:
    """Check the ids; the file row of each truth id, or None when no reordering is needed."""
    if truth is None:
        codes = as_numpy(pc.dictionary_encode(ids).indices)
        counts = np.bincount(codes)
        _check_duplicates(path, ids, np.flatnonzero(counts[codes] > 1), int(np.sum(counts > 1)))
        return None
    if len(ids) == len(truth) and pc.all(pc.equal(ids, truth)).as_py():
        return None  # the usual case: rows in the order of the test inputs
    positions = as_numpy(pc.index_in(ids, value_set=truth), fill=-1)
    found = positions >= 0
    counts = np.bincount(positions[found], minlength=len(truth))
    repeated = np.flatnonzero(found & (counts[np.maximum(positions, 0)] > 1))
    _check_duplicates(path, ids, repeated, int(np.sum(counts > 1)))
    _check_unknown(path, ids, np.flatnonzero(~found), truth)
    _check_missing(path, np.flatnonzero(counts == 0), truth)
    order = np.empty(len(truth), dtype=np.int64)
    order[positions] = np.arange(len(ids))
    return order


def _check_duplicates(path: Path, ids: pa.Array, rows: np.ndarray, n_ids: int) -> None:
    if not len(rows):
        return
    shown = []
    for value in dict.fromkeys(ids.take(from_numpy(rows[: SHOWN * SHOWN])).to_pylist()):
        lines = np.flatnonzero(as_numpy(pc.equal(ids, text_scalar(value)))) + 2
        listed = " and ".join(map(str, lines[:SHOWN])) + (" ..." if len(lines) > SHOWN else "")
        shown.append(f"{_truncate(value, 40)!r} on lines {listed}")
        if len(shown) == SHOWN:
            break
    _fail(
        path,
        f"{n_ids} id(s) appear more than once: {', '.join(shown)}{_more(n_ids)}; "
        "write each id exactly once",
    )


FLOAT_ID = re.compile(r"(-?\d+)\.0*")


def _check_unknown(path: Path, ids: pa.Array, rows: np.ndarray, truth: pa.Array) -> None:
    if not len(rows):
        return
    fix = "predict exactly the ids of the test inputs"
    for value in ids.take(from_numpy(rows[:SHOWN])).to_pylist():
        guess = FLOAT_ID.fullmatch(value)
        if guess and _in(truth, guess.group(1)):
            fix = (
                f"id {_truncate(value, 40)!r} looks like the id {guess.group(1)!r} written as a "
                "decimal number; write ids exactly as in the test inputs (read them as text, "
                "not as floats)"
            )
            break
        if value.strip() != value and _in(truth, value.strip()):
            fix = (
                f"id {_truncate(value, 40)!r} has surrounding spaces; "
                "write ids exactly as in the test inputs"
            )
            break
    _fail(
        path,
        f"{len(rows)} id(s) are not in the test set: {_rows(rows, ids)}{_more(len(rows))}; {fix}",
    )


def _in(truth: pa.Array, value: str) -> bool:
    return bool(pc.any(pc.equal(truth, text_scalar(value))).as_py())


def _check_missing(path: Path, rows: np.ndarray, truth: pa.Array) -> None:
    if len(rows):
        shown = _names(truth.take(from_numpy(rows[:SHOWN])).to_pylist())
        _fail(
            path,
            f"{len(rows)} test id(s) have no prediction, e.g. {shown}; "
            "write one row for every test id",
        )


def _reorder(spec: PredictionsSpec, ids: pa.Array, columns: dict, truth, order) -> Predictions:
    """In truth order when ``order`` (file row of each truth id) is given, else file order."""
    columns = {
        name: label_values(values) if isinstance(values, pa.Array) else values
        for name, values in columns.items()
    }
    if order is not None:
        ids = truth
        columns = {name: values[order] for name, values in columns.items()}
    return Predictions(spec.id_column, ids, columns)
