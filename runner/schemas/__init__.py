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


@cache
def validator(name: str):
    """A compiled Draft-07 validator for the schema (cached: compiling is the slow part)."""
    from jsonschema import Draft7Validator

    schema = load_schema(name)
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)
