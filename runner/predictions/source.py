"""The predictions file's bytes, opened safely, and its header line checked.

The file is opened without following a symbolic link and without blocking (a FIFO never
hangs the scorer), must be a regular file within the size cap, and is memory-mapped
read-only: every later step reads a bounded window of it, never an unbounded line. The first
line is checked before pyarrow sees the file: encoding (UTF-8, with an optional BOM; gzip, zip
and UTF-16 files are named as such), line endings (a lone CR is refused), and the column
names.
"""

from __future__ import annotations

import csv
import errno
import mmap
import os
import re
import stat
from pathlib import Path

from runner.models import PredictionsSpec
from runner.predictions.text import fail, human, names, shown

HEADER_MAX = 64 * 1024  # far above any header a challenge declares
OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}
VISIBLE = re.compile(rb"[^\s]")
MAGIC = {
    b"\x1f\x8b": "a gzip archive",
    b"PK\x03\x04": "a zip archive",
    b"\xff\xfe": "UTF-16 text",
    b"\xfe\xff": "UTF-16 text",
}


def expected_header(spec: PredictionsSpec) -> str:
    return ",".join([spec.id_column, *(c.name for c in spec.columns)])


def open_bytes(path: Path, limit: int, spec: PredictionsSpec) -> mmap.mmap:
    """The file's bytes, read-only; a participant-safe failure unless it is a regular file
    of 1 byte to ``limit`` bytes."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP:
            fail(path, "the predictions file is a symbolic link; write a regular file instead")
        fail(path, "the predictions file does not exist or cannot be read")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            fail(path, "the predictions file is not a regular file; write a plain CSV file")
        _check_size(path, info.st_size, limit, spec)
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)


def _check_size(path: Path, size: int, limit: int, spec: PredictionsSpec) -> None:
    if size > limit:
        fail(
            path,
            f"the predictions file is {human(size)}, over the limit of {human(limit)}; "
            f"write only the columns `{expected_header(spec)}`, one row per test id",
        )
    if size == 0:
        fail(
            path,
            f"the predictions file is empty; it needs the header line `{expected_header(spec)}` "
            "and one row per test id",
        )


def check_header(path: Path, data: mmap.mmap, spec: PredictionsSpec) -> None:
    """The first line names exactly the declared columns; raises otherwise."""
    text = header_text(path, data, spec)
    try:
        found = next(csv.reader([text])) if text else [""]
    except csv.Error:
        found = [text]  # reported below as a header without the expected columns
    _check_names(path, found, text, spec)


def header_text(path: Path, data: mmap.mmap, spec: PredictionsSpec) -> str:
    """The first line as text, once its bytes are known safe to parse: not an archive or
    UTF-16, not longer than ``HEADER_MAX``, ended by LF or CRLF, no NUL, UTF-8."""
    head = data[: HEADER_MAX + 1]
    for magic, what in MAGIC.items():
        if head.startswith(magic):
            fail(path, f"the predictions file is {what}, not a CSV file; save it as UTF-8 text")
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    end = min(ends, default=-1)
    if end < 0 and len(head) > HEADER_MAX:
        fail(
            path,
            f"the header line is longer than {HEADER_MAX} bytes (a header with millions of "
            f"columns?); the header must be `{expected_header(spec)}`",
        )
    if end >= 0 and head[end : end + 1] == b"\r" and head[end + 1 : end + 2] != b"\n":
        fail(
            path,
            "the predictions file ends its lines with a bare carriage return (CR); save it "
            "with Unix (LF) or Windows (CRLF) line endings",
        )
    line = head if end < 0 else head[:end]
    if b"\0" in line:
        fail(path, "the header line holds NUL bytes; save the file as UTF-8 text")
    try:
        return line.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        fail(path, utf8_message(1, err.start + 1))


def has_rows(data: mmap.mmap) -> bool:
    """Whether anything but white space follows the first line (searched in place)."""
    newline = data.find(b"\n")
    return newline >= 0 and VISIBLE.search(data, newline) is not None


def utf8_message(line: int, byte: int) -> str:
    return (
        f"the predictions file is not valid UTF-8 (line {line}, byte {byte}); save it as UTF-8 text"
    )


def _check_names(path: Path, found: list[str], text: str, spec: PredictionsSpec) -> None:
    wanted = [spec.id_column, *(c.name for c in spec.columns)]
    fix = f"the header must be `{expected_header(spec)}`"
    if len(found) == 1 and len(wanted) > 1:
        for delimiter, label in OTHER_DELIMITERS.items():
            if delimiter in text:
                fail(
                    path,
                    f"the file uses {label} as the delimiter; separate columns with commas: {fix}",
                )
    quoted = f" (found `{shown(','.join(found[:10]), 200)}`)"
    repeated = sorted({n for n in found if found.count(n) > 1})
    if repeated:
        fail(path, f"the header repeats column(s) {names(repeated)}; {fix}")
    if spec.id_column not in found:
        fail(path, f"the header has no id column {spec.id_column!r}; {fix}{quoted}")
    missing = [n for n in wanted if n not in found]
    if missing:
        fail(path, f"the header lacks column(s) {names(missing)}; {fix}{quoted}")
    extra = [n for n in found if n not in wanted]
    if extra:
        fail(path, f"the header has unexpected column(s) {names(extra[:5])}; {fix}")
