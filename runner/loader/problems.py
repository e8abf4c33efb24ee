"""Problems found in a file, and the translation of JSON Schema errors into them.

A problem names the file, the line and column, the JSON path and says how to fix it:
``challenges/x/challenge.yaml:12:5: $.metrics[0].name: 'f2' is not one of [...]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.errors import ConfigError
from runner.yamlsafe import Document, JsonPath, YamlError


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    column: int | None
    json_path: str
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        return (
            f"{where}: {self.json_path}: {self.message}"
            if self.json_path
            else (f"{where}: {self.message}")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "json_path": self.json_path,
            "message": self.message,
        }


class ValidationFailed(ConfigError):
    """One or more files are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s):\n{lines}")


def json_path(path: JsonPath) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class Collector:
    """Collects the problems of one file, placing each at its line and column."""

    def __init__(self, display_path: str, doc: Document | None = None):
        self.display_path = display_path
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, path: JsonPath, message: str, *, key: bool = False) -> None:
        pos = self.doc.position(path, key=key) if self.doc else None
        self.problems.append(
            Problem(
                self.display_path,
                pos.line if pos else None,
                pos.column if pos else None,
                json_path(path),
                message,
            )
        )

    def add_yaml_error(self, err: YamlError) -> None:
        self.problems.append(Problem(self.display_path, err.line, err.column, "", err.message))

    def check_schema(self, validator: Any) -> bool:
        """Validate the document; add a problem per schema error. True when valid."""
        assert self.doc is not None  # a schema check follows a parsed document
        errors = sorted(validator.iter_errors(self.doc.data), key=lambda e: list(e.absolute_path))
        for error in errors:
            self._schema_error(error)
        return not errors

    def _schema_error(self, error: Any) -> None:
        path = tuple(error.absolute_path)
        kind = error.validator
        if kind == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for key in _extra_keys(error):
                hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
                self.add(
                    (*path, key),
                    f"unknown key {key!r}: remove it or fix its spelling{hint}",
                    key=True,
                )
            return
        self.add(path, _explain(error))


def _extra_keys(error: Any) -> list[str]:
    props = error.schema.get("properties", {})
    patterns = error.schema.get("patternProperties", {})
    if not isinstance(error.instance, dict):
        return []
    return [
        k for k in error.instance if k not in props and not any(re.search(p, k) for p in patterns)
    ]


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _explain(error: Any) -> str:
    """A schema error in words that say how to fix it."""
    kind, schema, value = error.validator, error.schema, error.instance
    described = schema.get("description")
    hint = f" ({described})" if described else ""
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required key {missing!r}: add it"
    if kind == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return f"expected {wanted}, got {_short(value)}{hint}"
    if kind == "enum":
        options = ", ".join(repr(o) for o in error.validator_value)
        return f"{_short(value)} is not one of {options}"
    if kind == "pattern":
        return f"{_short(value)} does not match the required form {schema['pattern']}{hint}"
    if kind in ("minLength", "minItems", "minProperties"):
        return f"must not be empty{hint}"
    if kind in ("maxLength", "maxItems", "maxProperties"):
        return f"is too long (at most {error.validator_value}){hint}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{_short(value)} is out of range: {error.message}"
    if kind == "oneOf" and "kind" in str(schema):
        return f"{_short(value)} must be probability, label or number, or {{kind, classes}}"
    return error.message + hint


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
