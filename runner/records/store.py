"""Record files: atomic never-overwriting writes, validated reads, fast bulk loading, ids."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.errors import RecordError
from runner.models import Result
from runner.records.check import (
    CHALLENGE_RE,
    EVAL_ID_RE,
    LOGIN_RE,
    NAME_RE,
    SCHEMA_VERSIONS,
    check_record,
)
from runner.records.codec import result_from_dict, result_to_dict


@dataclass(frozen=True)
class LoadedResults:
    """Every readable record under a results folder, and a RecordError per unreadable file."""

    results: tuple[Result, ...]
    problems: tuple[RecordError, ...]


# ---------------------------------------------------------------- files


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


class _NonFinite(ValueError):
    """A number in the file beyond float range: ``json`` would read it as infinity."""


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400 parses as inf, which no board, chart or export can handle
        raise _NonFinite(text)
    return value


def _finite_int(text: str) -> int:
    value = int(text)
    if len(text) > 300 and not _fits_float(value):  # 309+ digits: no float holds it
        raise _NonFinite(text)
    return value


def _fits_float(value: int) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


class _Marked(str):
    """A too-large number kept as its text, so ``_non_finite_at`` can name where it is."""


def _mark_float(text: str) -> float | _Marked:
    return _Marked(text) if math.isinf(float(text)) else 0.0


def _mark_int(text: str) -> int | _Marked:
    return _Marked(text) if len(text) > 300 and not _fits_float(int(text)) else 0


def _non_finite_at(data: Any, where: str = "$") -> tuple[str, str] | None:
    """(JSON path, value text) of the first number no float can hold, or None."""
    if isinstance(data, _Marked) or (type(data) is float and not math.isfinite(data)):
        return where, str(data)
    if type(data) is int and not _fits_float(data):
        return where, f"{str(data)[:20]}... ({len(str(data))} digits)"
    if isinstance(data, dict):
        items = ((f"{where}.{key}", value) for key, value in data.items())
    elif isinstance(data, list):
        items = ((f"{where}[{i}]", value) for i, value in enumerate(data))
    else:
        return None
    for inner, value in items:
        found = _non_finite_at(value, inner)
        if found is not None:
            return found
    return None


def _refuse_non_finite(raw: bytes, path: Path | str, err: _NonFinite) -> RecordError:
    # Only on this rare path: read the file again, keeping the big numbers as text, to say where.
    data = json.loads(raw, parse_float=_mark_float, parse_int=_mark_int)
    where, value = _non_finite_at(data) or ("$", str(err))
    return RecordError(
        f"not a valid result record: {where}: {value[:40]} is not a finite number (beyond "
        "the range of a float); the file is corrupt: restore it from git or delete it and "
        "re-run the evaluation",
        path=str(path),
    )


def _parse(raw: bytes, path: Path | str) -> Any:
    try:
        data = json.loads(
            raw, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_finite_int
        )
    except _NonFinite as err:
        raise _refuse_non_finite(raw, path, err) from err
    except (ValueError, UnicodeDecodeError) as err:
        raise RecordError(
            f"not valid JSON ({err}); the file is truncated or corrupt: restore it from git "
            "or delete it and re-run the evaluation",
            path=str(path),
        ) from err
    if not isinstance(data, dict):
        raise RecordError("not a valid result record: $: expected an object", path=str(path))
    version = data.get("schema_version", SCHEMA_VERSIONS[-1])  # missing: the check reports it
    if version not in SCHEMA_VERSIONS or type(version) is bool:
        readable = ", ".join(map(str, SCHEMA_VERSIONS))
        raise RecordError(
            f"schema_version {version!r} is not one this runner reads (it reads {readable}); "
            "upgrade challenge-runner to read this record",
            path=str(path),
        )
    return data


def _schema_problem(data: dict[str, Any]) -> str | None:
    """The full JSON Schema's first complaint (the contract), as ``$.path: message``."""
    from runner.schemas import validator

    errors = sorted(validator("result").iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    first = errors[0]
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path)
    message = first.message
    if isinstance(first.instance, str) and len(first.instance) > 80:  # e.g. an armored blob
        message = message.replace(repr(first.instance), repr(first.instance[:60]) + "...")
    return f"{where}: {message}"


def read_result(path: Path) -> Result:
    """Read and fully validate one record (JSON Schema and structural check)."""
    data = _parse(_read_capped(str(path)), path)
    problem = _schema_problem(data)
    if problem is not None:
        raise RecordError(f"not a valid result record: {problem}", path=str(path))
    return result_from_dict(data, path=str(path))


def _component(value: str, pattern: re.Pattern, field: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise RecordError(f"{field} {value!r} cannot name a record folder ({pattern.pattern})")
    return value


def result_path(results_dir: Path, result: Result) -> Path:
    """``results_dir/<challenge>/<participant>/<submission>/<evaluation_id>.json``."""
    return (
        Path(results_dir)
        / _component(result.challenge, CHALLENGE_RE, "challenge")
        / _component(result.participant, LOGIN_RE, "participant")
        / _component(result.submission, NAME_RE, "submission")
        / f"{_component(result.evaluation_id, EVAL_ID_RE, 'evaluation_id')}.json"
    )


def _encode(result: Result) -> bytes:
    data = result_to_dict(result)
    bad = _non_finite_at(data)
    if bad is not None:
        raise RecordError(
            f"refusing to write a record with a non-finite number: {bad[0]} is {bad[1]}; "
            "scores and statistics must be finite numbers"
        )
    problem = _schema_problem(data) or check_record(data)
    if problem is not None:
        raise RecordError(f"refusing to write an invalid result record: {problem}")
    try:
        return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")
    except ValueError as err:  # NaN or infinity among the numbers
        raise RecordError(f"refusing to write a record with a non-finite number: {err}") from err


def write_result(results_dir: Path, result: Result) -> Path:
    """Write the record atomically; never overwrite (an existing file is a RecordError)."""
    body = _encode(result)
    path = result_path(results_dir, result)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        _link(tmp, path)
    finally:
        os.unlink(tmp)
    _fsync_dir(path.parent)
    return path


def _link(tmp: str, path: Path) -> None:
    # link() refuses an existing target, unlike rename(): no window where a writer clobbers.
    try:
        os.link(tmp, path)
    except FileExistsError as err:
        raise RecordError(
            "a record with this evaluation id exists and records are never overwritten; "
            "write a new record (new evaluation id) instead",
            path=str(path),
        ) from err
    except OSError as err:
        raise RecordError(
            f"cannot create the record ({err.strerror}); the results folder must be on a "
            "file system that supports hard links",
            path=str(path),
        ) from err


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- bulk loading


def _sorted_dirs(folder: str) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        dirs = [e for e in entries if not e.name.startswith(".") and e.is_dir()]
    return sorted(dirs, key=lambda e: e.name)


def _record_files(folder: str) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        found = [e for e in entries if e.name.endswith(".json") and not e.name.startswith(".")]
    return sorted(found, key=lambda e: e.name)


MAX_RECORD_BYTES = 1 << 20  # a record is a few KiB; anything this big is not one


def _read_capped(path: str) -> bytes:
    """The file's bytes via bare os calls (the bulk path's cost is mostly syscalls)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            chunks, size = [], 0
            while chunk := os.read(fd, MAX_RECORD_BYTES + 1 - size):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RECORD_BYTES:
                    raise RecordError(
                        f"larger than {MAX_RECORD_BYTES} bytes, so not a result record: "
                        "move it out of the results folder",
                        path=path,
                    )
        finally:
            os.close(fd)
    except OSError as err:
        raise RecordError(f"cannot read the record: {err.strerror}", path=path) from err
    return b"".join(chunks)


def _load_one(entry: os.DirEntry, expected: tuple[str, str, str]) -> Result:
    raw = _read_capped(entry.path)
    result = result_from_dict(_parse(raw, entry.path), path=entry.path)
    found = (result.challenge, result.participant, result.submission)
    if found != expected or entry.name != f"{result.evaluation_id}.json":
        raise RecordError(
            f"the record says {'/'.join(found)}/{result.evaluation_id}.json but lies elsewhere; "
            "records are written only by challenge-runner: move it back or delete it",
            path=entry.path,
        )
    return result


def load_results(results_dir: Path, challenge: str | None = None) -> LoadedResults:
    """Every record under ``results_dir`` (one challenge's, or all), past unreadable files.

    Fast on purpose (the site reads every record): os.scandir, json.loads and the structural
    ``check_record``. A bad file becomes a RecordError in ``problems``; loading goes on.
    """
    root = Path(results_dir)
    if challenge is not None:
        tops = [root / challenge] if (root / challenge).is_dir() else []
    else:
        tops = [Path(e.path) for e in _sorted_dirs(str(root))] if root.is_dir() else []
    results: list[Result] = []
    problems: list[RecordError] = []
    for top in tops:
        for person in _sorted_dirs(str(top)):
            for name in _sorted_dirs(person.path):
                expected = (top.name, person.name, name.name)
                for entry in _record_files(name.path):
                    try:
                        results.append(_load_one(entry, expected))
                    except RecordError as err:
                        problems.append(err)
    return LoadedResults(tuple(results), tuple(problems))


# ---------------------------------------------------------------- ids, cache, corrections


def new_evaluation_id(now: datetime) -> str:
    """A sortable, unique id: ``YYYYMMDDTHHMMSSZ-<8 random hex>`` (UTC)."""
    if now.tzinfo is None:
        raise ValueError("new_evaluation_id needs a timezone-aware time")
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def cache_key(
    challenge_sha256: str, data_sha256: str, artifact_sha256: str, runner_version: str
) -> str:
    """sha256 hex identifying an evaluation's inputs; ``artifact`` = image digest or predictions
    sha256. Same key, same outcome: the evaluation need not run again."""
    parts = ("challenge-runner-cache/1", challenge_sha256, data_sha256, artifact_sha256)
    return hashlib.sha256("\n".join((*parts, runner_version)).encode("utf-8")).hexdigest()


def current_results(results: Iterable[Result]) -> list[Result]:
    """The records no other record supersedes (a reveal replaces its sealed original)."""
    results = list(results)
    replaced = {(r.challenge, r.supersedes) for r in results if r.supersedes is not None}
    return [r for r in results if (r.challenge, r.evaluation_id) not in replaced]


def find_cached(results: Iterable[Result], key: str) -> Result | None:
    """The latest current, non-``error`` record with this cache key, or None."""
    hits = [r for r in current_results(results) if r.cache_key == key and r.status != "error"]
    return max(hits, key=lambda r: (r.created_at, r.evaluation_id), default=None)
