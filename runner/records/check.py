"""The result schema's rules written out in code, for the bulk path (``load_results``).

The JSON Schema (``runner/schemas/result.schema.json``) is the contract; running it over
100,000 records costs more than reading them, so ``check_record`` applies the same rules in
plain Python: ``_fast_ok`` answers yes/no with as few operations as possible, and only when it
says no does ``_explain`` walk the record again to name the first problem as
``$.json.path: message``. tests/test_records.py proves the three agree on the example files
and on every one-edit mutation of them.

One deliberate difference: patterns are full matches here, whereas the schema's ``^...$``
under Python's ``re.search`` also accepts a trailing newline; ``write_result`` runs both, so
no record is written that this module would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from runner.models import STATUSES

SCHEMA_VERSIONS: tuple[int, ...] = (1,)  # the record versions this runner reads and writes

CHALLENGE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_PHASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
LOGIN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_TEAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,38}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
EVAL_ID_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGEST = re.compile(r"([^\s@]{1,400}@)?sha256:[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_URL = re.compile(r"https?://[^\s<>\"']{1,2000}")
_ARMOR = re.compile(
    r"-----BEGIN AGE ENCRYPTED FILE-----\r?\n[\s\S]*-----END AGE ENCRYPTED FILE-----\s*"
)
_METRIC = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_STAGE = re.compile(r"[a-z][a-z0-9_]{0,31}")

_TOP = (
    "schema_version", "challenge", "phase", "participant", "team", "user_id", "submission",
    "evaluation_id", "created_at", "status", "message", "scores", "private", "detail",
    "baseline", "provenance", "timings", "ladder", "cache_key", "supersedes",
)  # fmt: skip
PROVENANCE_KEYS = (
    "runner_version", "challenge_sha256", "data_sha256", "manifest_sha256", "image_digest",
    "predictions_sha256", "artifact_sha256", "commit", "pull_request", "run_url",
)  # fmt: skip


class _Bad(Exception):
    """A rule ``check_record`` found broken: ``where`` is a JSON path."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")


# ---------------------------------------------------------------- structural check (bulk path)


def _is_number(value: Any) -> bool:
    return type(value) is float or type(value) is int  # bool is an int subclass: refuse it


def _is_integer(value: Any) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _string(
    pattern: re.Pattern | None, *, nullable: bool = False, max_len: int | None = None
) -> Callable[[Any, str], None]:
    def check(value: Any, where: str) -> None:
        if value is None and nullable:
            return
        if type(value) is not str:
            raise _Bad(where, f"expected a string{' or null' if nullable else ''}, got {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            raise _Bad(where, f"{value[:80]!r} does not match {pattern.pattern}")
        if max_len is not None and len(value) > max_len:
            raise _Bad(where, f"longer than {max_len} characters")

    return check


def _integer(*, nullable: bool) -> Callable[[Any, str], None]:
    def check(value: Any, where: str) -> None:
        if value is None and nullable:
            return
        if not _is_integer(value) or value < 1:
            raise _Bad(where, f"expected an integer >= 1{' or null' if nullable else ''}")

    return check


def _const_version(value: Any, where: str) -> None:
    if value not in SCHEMA_VERSIONS or type(value) is bool:
        raise _Bad(where, f"unknown schema_version {value!r}")


def _status(value: Any, where: str) -> None:
    if value not in STATUSES or type(value) is not str:
        raise _Bad(where, f"{value!r} is not one of {list(STATUSES)}")


def _boolean(value: Any, where: str) -> None:
    if type(value) is not bool:
        raise _Bad(where, f"expected true or false, got {value!r}")


def _object(value: Any, where: str, *, nullable: bool = False) -> bool:
    """Whether ``value`` is an object to look into (False: an allowed null)."""
    if value is None and nullable:
        return False
    if type(value) is not dict:
        raise _Bad(where, f"expected an object{' or null' if nullable else ''}")
    return True


def _keys(value: dict, where: str, required: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    for key in required:
        if key not in value:
            raise _Bad(where, f"required property {key!r} is missing")
    for key in value:
        if key not in allowed:
            raise _Bad(where, f"unknown property {key!r} (allowed: {', '.join(allowed)})")


def _score(value: Any, where: str) -> None:
    _object(value, where)
    _keys(value, where, ("value", "ci_low", "ci_high"), ("value", "ci_low", "ci_high"))
    if not _is_number(value["value"]):
        raise _Bad(f"{where}.value", "expected a number")
    for bound in ("ci_low", "ci_high"):
        if value[bound] is not None and not _is_number(value[bound]):
            raise _Bad(f"{where}.{bound}", "expected a number or null")


def _split_scores(value: Any, where: str) -> None:
    _object(value, where)
    for metric, score in value.items():
        if not _METRIC.fullmatch(metric):
            raise _Bad(where, f"metric name {metric[:80]!r} does not match {_METRIC.pattern}")
        _score(score, f"{where}.{metric}")


def _scores(value: Any, where: str) -> None:
    _object(value, where)
    _keys(value, where, (), ("public", "private"))
    for split, scores in value.items():
        _split_scores(scores, f"{where}.{split}")


def _provenance(value: Any, where: str) -> None:
    _object(value, where)
    _keys(value, where, PROVENANCE_KEYS, PROVENANCE_KEYS)
    for key, check in _PROVENANCE_RULES.items():
        check(value[key], f"{where}.{key}")


def _timings(value: Any, where: str) -> None:
    _object(value, where)
    for stage, seconds in value.items():
        if not _STAGE.fullmatch(stage):
            raise _Bad(where, f"stage name {stage[:80]!r} does not match {_STAGE.pattern}")
        if not _is_number(seconds) or seconds < 0:
            raise _Bad(f"{where}.{stage}", "expected a number of seconds >= 0")


def _ladder(value: Any, where: str) -> None:
    if not _object(value, where, nullable=True):
        return
    _keys(value, where, ("loss_mean", "loss_sd", "n"), ("loss_mean", "loss_sd", "n"))
    if not _is_number(value["loss_mean"]):
        raise _Bad(f"{where}.loss_mean", "expected a number")
    if not _is_number(value["loss_sd"]) or value["loss_sd"] < 0:
        raise _Bad(f"{where}.loss_sd", "expected a number >= 0")
    if not _is_integer(value["n"]) or value["n"] < 1:
        raise _Bad(f"{where}.n", "expected an integer >= 1")


_PROVENANCE_RULES: dict[str, Callable[[Any, str], None]] = {
    "runner_version": _string(re.compile(r"[\s\S]{1,64}")),
    "challenge_sha256": _string(_HEX64),
    "data_sha256": _string(_HEX64),
    "manifest_sha256": _string(_HEX64),
    "image_digest": _string(_DIGEST, nullable=True),
    "predictions_sha256": _string(_HEX64, nullable=True),
    "artifact_sha256": _string(_HEX64, nullable=True),
    "commit": _string(_COMMIT, nullable=True),
    "pull_request": _integer(nullable=True),
    "run_url": _string(_URL, nullable=True),
}
_RULES: dict[str, Callable[[Any, str], None]] = {
    "schema_version": _const_version,
    "challenge": _string(CHALLENGE_RE),
    "phase": _string(_PHASE, nullable=True),
    "participant": _string(LOGIN_RE),
    "team": _string(_TEAM, nullable=True),
    "user_id": _integer(nullable=True),
    "submission": _string(NAME_RE),
    "evaluation_id": _string(EVAL_ID_RE),
    "created_at": _string(_TIME),
    "status": _status,
    "message": _string(None, max_len=10000),
    "scores": _scores,
    "private": _string(_ARMOR, nullable=True),
    "detail": _string(_ARMOR, nullable=True),
    "baseline": _boolean,
    "provenance": _provenance,
    "timings": _timings,
    "ladder": _ladder,
    "cache_key": _string(_HEX64),
    "supersedes": _string(EVAL_ID_RE, nullable=True),
}


def _explain(data: Any) -> str | None:
    """The first rule ``data`` breaks, as ``$.path: message`` (the slow, talkative walk)."""
    try:
        _object(data, "$")
        _keys(data, "$", _TOP, _TOP)
        for key, check in _RULES.items():
            check(data[key], f"$.{key}")
        if "private" in data["scores"] and data["private"] is not None:
            raise _Bad("$.private", "must be null once scores.private is in clear")
    except _Bad as bad:
        return str(bad)
    return None


def check_record(data: Any) -> str | None:
    """The first way ``data`` breaks the result schema, as ``$.path: message``; None if none."""
    if _fast_ok(data):
        return None
    return _explain(data) or "$: not a valid result record"


# ---------------------------------------------------------------- the fast yes/no

_NUMBER = (float, int)  # type() in _NUMBER: exact types, so booleans are refused
_TOP_SET = frozenset(_TOP)
_PROVENANCE_SET = frozenset(PROVENANCE_KEYS)
_SCORE_KEYS = frozenset(("value", "ci_low", "ci_high"))
_LADDER_KEYS = frozenset(("loss_mean", "loss_sd", "n"))
_SPLITS = frozenset(("public", "private"))
_STATUS_SET = frozenset(STATUSES)
# (key, pattern.fullmatch, nullable) for every top-level string field.
_STRINGS = tuple(
    (key, pattern.fullmatch, nullable)
    for key, pattern, nullable in (
        ("challenge", CHALLENGE_RE, False),
        ("phase", _PHASE, True),
        ("participant", LOGIN_RE, False),
        ("team", _TEAM, True),
        ("submission", NAME_RE, False),
        ("evaluation_id", EVAL_ID_RE, False),
        ("created_at", _TIME, False),
        ("cache_key", _HEX64, False),
        ("supersedes", EVAL_ID_RE, True),
    )
)
_PROVENANCE_STRINGS = tuple(
    (key, pattern.fullmatch, nullable)
    for key, pattern, nullable in (
        ("challenge_sha256", _HEX64, False),
        ("data_sha256", _HEX64, False),
        ("manifest_sha256", _HEX64, False),
        ("image_digest", _DIGEST, True),
        ("predictions_sha256", _HEX64, True),
        ("artifact_sha256", _HEX64, True),
        ("commit", _COMMIT, True),
        ("run_url", _URL, True),
    )
)


def _strings_ok(data: dict, fields: tuple) -> bool:
    for key, match, nullable in fields:
        value = data[key]
        if value is None and nullable:
            continue
        if type(value) is not str or match(value) is None:
            return False
    return True


_BEGIN, _END = "-----BEGIN AGE ENCRYPTED FILE-----", "-----END AGE ENCRYPTED FILE-----"


def _armored_or_null(value: Any) -> bool:
    """``_ARMOR.fullmatch`` without the regex (it scans the blob twice: 4 us a record)."""
    if value is None:
        return True
    if type(value) is not str or not value.startswith(_BEGIN):
        return False
    rest = value[len(_BEGIN) :]
    if rest.startswith("\r\n"):
        body = rest[2:]
    elif rest.startswith("\n"):
        body = rest[1:]
    else:
        return False
    return body.rstrip().endswith(_END)  # str.rstrip() strips what the regex's \s* matches


def _positive_int_or_null(value: Any) -> bool:
    return value is None or (_is_integer(value) and value >= 1)


def _scores_ok(scores: Any) -> bool:
    if type(scores) is not dict or not _SPLITS.issuperset(scores):
        return False
    for split in scores.values():
        if type(split) is not dict:
            return False
        for metric, score in split.items():
            if type(score) is not dict or score.keys() != _SCORE_KEYS:
                return False
            low, high = score["ci_low"], score["ci_high"]
            if (
                type(score["value"]) not in _NUMBER
                or (low is not None and type(low) not in _NUMBER)
                or (high is not None and type(high) not in _NUMBER)
                or _METRIC.fullmatch(metric) is None
            ):
                return False
    return True


def _provenance_ok(value: Any) -> bool:
    if type(value) is not dict or value.keys() != _PROVENANCE_SET:
        return False
    version = value["runner_version"]
    return (
        type(version) is str
        and 1 <= len(version) <= 64
        and _strings_ok(value, _PROVENANCE_STRINGS)
        and _positive_int_or_null(value["pull_request"])
    )


def _extras_ok(data: dict) -> bool:
    timings, ladder = data["timings"], data["ladder"]
    if type(timings) is not dict:
        return False
    for stage, seconds in timings.items():
        if type(seconds) not in _NUMBER or seconds < 0 or _STAGE.fullmatch(stage) is None:
            return False
    if ladder is None:
        return True
    return (
        type(ladder) is dict
        and ladder.keys() == _LADDER_KEYS
        and type(ladder["loss_mean"]) in _NUMBER
        and type(ladder["loss_sd"]) in _NUMBER
        and ladder["loss_sd"] >= 0
        and _is_integer(ladder["n"])
        and ladder["n"] >= 1
    )


def _fast_ok(data: Any) -> bool:
    """Whether ``data`` is a valid record: the rules of ``_explain``, as yes or no, fast."""
    if type(data) is not dict or data.keys() != _TOP_SET:
        return False
    version, message = data["schema_version"], data["message"]
    return (
        version in SCHEMA_VERSIONS
        and type(version) is not bool
        and type(data["status"]) is str
        and data["status"] in _STATUS_SET
        and type(message) is str
        and len(message) <= 10000
        and type(data["baseline"]) is bool
        and _positive_int_or_null(data["user_id"])
        and _strings_ok(data, _STRINGS)
        and _armored_or_null(data["private"])
        and _armored_or_null(data["detail"])
        and _scores_ok(data["scores"])
        and ("private" not in data["scores"] or data["private"] is None)
        and _provenance_ok(data["provenance"])
        and _extras_ok(data)
    )
