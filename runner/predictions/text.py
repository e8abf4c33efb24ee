"""Participant-safe wording shared by the predictions checks: the failure, quoted values.

Quoted file content goes through ``shown``: it is cut to a length and every character that
is not printable (controls, NUL, bidi overrides such as U+202E) is written as an escape, so a
crafted file cannot reshape the message that quotes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import numpy as np
import pyarrow as pa

from runner.errors import PredictionsError

SHOWN = 3  # offending rows named in a message


def fail(path: Path, message: str, detail: str | None = None) -> NoReturn:
    raise PredictionsError(message, path=path.name, detail=detail)


def shown(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with non-printable characters escaped."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)


def names(values: list[str]) -> str:
    return ", ".join(repr(cut(n, 40)) for n in values)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (``repr`` escapes what ``shown`` would)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def more(total: int) -> str:
    return f" and {total - SHOWN} more" if total > SHOWN else ""


def rows(found: np.ndarray, ids: pa.Array) -> str:
    """``line N (id 'x')`` for the first offending rows (the header is line 1)."""
    return ", ".join(f"line {i + 2} (id {cut(ids[i].as_py(), 40)!r})" for i in found[:SHOWN])


def human(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
