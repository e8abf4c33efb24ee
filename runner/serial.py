"""Step results as JSON, defined once for every frozen dataclass that crosses a job.

``to_json`` / ``from_json`` follow the dataclass's type hints: ``Path`` and ``datetime``
become strings, tuples lists, nested dataclasses objects, and back. A job's artifact
(``plan.json``, ``build.json``, ``ingest.json``) is ``Class.write(path)`` and
``Class.read(path)``: no hand-built dicts, so both ends of an artifact agree by construction.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from runner.errors import ConfigError


def to_json(value: Any) -> Any:
    """``value`` (a dataclass, or anything inside one) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def from_json(hint: Any, data: Any) -> Any:
    """The inverse of ``to_json`` for a value of type ``hint``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        concrete = [a for a in typing.get_args(hint) if a is not type(None)]
        return from_json(concrete[0], data) if len(concrete) == 1 else data
    if origin is tuple:
        args = typing.get_args(hint)
        return tuple(from_json(args[0], v) for v in data)
    if origin is dict:
        value_hint = typing.get_args(hint)[1]
        return {k: from_json(value_hint, v) for k, v in data.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_from_json(hint, data)
    if hint is Path:
        return Path(data)
    if hint is datetime:
        return datetime.fromisoformat(data)
    if hint is float and isinstance(data, int):
        return float(data)
    return data


def _dataclass_from_json(cls: type, data: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)} for {cls.__name__}")
    return cls(**{k: from_json(hints[k], v) for k, v in data.items()})


class JsonData:
    """Mixin for frozen dataclasses passed between steps (and jobs)."""

    def to_json(self) -> dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return _dataclass_from_json(cls, data)

    def write(self, path: Path) -> Path:
        """Write as ``path`` (pretty JSON, one trailing newline); return ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> Self:
        """Read what ``write`` wrote; a ``ConfigError`` naming the file if it cannot."""
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
            raise ConfigError(
                f"cannot read {cls.__name__} from this file ({err}): it is written by an "
                "earlier step of the same challenge-runner version; run that step again",
                path=str(path),
            ) from err
