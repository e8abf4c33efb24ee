"""The JSON Schemas (draft-07) for challenge-runner's files, shipped as package data.

``challenge``, ``submission``, ``teams`` and ``result``; each has an ``$id`` so editors'
YAML language servers can use it (``# yaml-language-server: $schema=<url>``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

NAMES = ("challenge", "submission", "teams", "result")


def schema_text(name: str) -> str:
    """The schema's JSON text. Raises KeyError for an unknown name."""
    if name not in NAMES:
        raise KeyError(name)
    return resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads(schema_text(name))


def _strict_integer(checker: object, instance: object) -> bool:
    """Draft 7 counts 2.0 as an integer; a count or a precision of 2.0 is a mistake."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def validator(name: str) -> Any:
    """A compiled Draft-07 validator for the schema (cached: compiling is the slow part).

    Stricter than the draft in one way: "integer" means a whole number written without a
    decimal point.
    """
    from jsonschema import Draft7Validator, validators

    schema = load_schema(name)
    Draft7Validator.check_schema(schema)
    checker = Draft7Validator.TYPE_CHECKER.redefine("integer", _strict_integer)
    return validators.extend(Draft7Validator, type_checker=checker)(schema)
