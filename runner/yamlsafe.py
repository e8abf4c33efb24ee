"""A YAML reader for files that participants control.

It accepts only plain data: mappings, sequences and the scalars JSON has. It refuses, with
a message that says where and how to fix it: files over 64 KiB, bytes that are not UTF-8,
empty files, aliases (the "billion laughs" bomb needs them), merge keys, duplicate keys and
any tag but the standard ones (``!!python/object`` and friends). Timestamps stay strings so
the JSON Schema checks their format. Every value's line and column are kept, so later
errors can point at the exact place in the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 64 * 1024
MAX_DEPTH = 32  # nesting levels; deeper files would exhaust the parser's (C) stack

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_STD}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_CONSTRUCT = yaml.constructor.SafeConstructor()

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Document:
    """A parsed file: its data and where each value (and each mapping key) stands."""

    data: Any
    positions: dict[JsonPath, Position] = field(default_factory=dict)
    key_positions: dict[JsonPath, Position] = field(default_factory=dict)

    def position(self, path: JsonPath, *, key: bool = False) -> Position | None:
        """The position of ``path``, or of its nearest ancestor that has one."""
        table = self.key_positions if key else self.positions
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or self.positions.get(path[:end])
            if found:
                return found
        return None


class YamlError(Exception):
    """The file is not safe, plain YAML. Carries the 1-based position when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _bad_tag(node: yaml.Node) -> YamlError:
    tag = node.tag.replace(_STD, "!!")
    return _fail(node, f"the tag {tag!r} is not allowed; remove it (plain data only)")


def _fail(node: yaml.Node, message: str) -> YamlError:
    mark = node.start_mark
    return YamlError(message, mark.line + 1, mark.column + 1)


class _Builder:
    """Turns a composed node tree into plain data, refusing aliases and foreign tags."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.seen: set[int] = set()

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        if id(node) in self.seen:
            raise _fail(
                node,
                "anchors and aliases (&name, *name) are not allowed; write the value out in full",
            )
        self.seen.add(id(node))
        self.doc.positions[path] = _pos(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._check_tag(node, f"{_STD}seq")
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _check_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            raise _bad_tag(node)

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, Any]:
        self._check_tag(node, f"{_STD}map")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_STD}merge":
                raise _fail(key_node, "merge keys (<<) are not allowed; write the keys out")
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise _fail(key_node, "mapping keys must be plain strings")
            if key in out:
                raise _fail(key_node, f"duplicate key {key!r}; keep only one")
            self.doc.key_positions[(*path, key)] = _pos(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise _bad_tag(node)
        kind = node.tag[len(_STD) :]
        if kind in ("str", "timestamp"):
            return str(node.value)
        value = getattr(_CONSTRUCT, f"construct_yaml_{kind}")(node)
        if kind == "float" and not math.isfinite(value):
            raise _fail(node, f"{node.value!r} is not a finite number; write a plain number")
        return value


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise YamlError(
            f"file is {size:,} bytes; the limit is {MAX_BYTES:,} (64 KiB). "
            "Keep manifests small: put data in a file beside them."
        )


def parse_yaml(raw: bytes) -> Document:
    """Parse untrusted YAML bytes into a ``Document``; raise ``YamlError`` if unsafe."""
    _check_size(len(raw))
    text = _decode(raw)
    if not text.strip():
        raise YamlError("file is empty; it must contain a YAML mapping")
    try:
        _check_depth(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise YamlError(f"not valid YAML: {problem}", line, col) from None
    except yaml.YAMLError as err:
        raise YamlError(f"not valid YAML: {err}") from None
    doc = Document(data=None)
    if node is None:
        raise YamlError("file is empty; it must contain a YAML mapping")
    doc.data = _Builder(doc).build(node, ())
    return doc


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the event stream, before anything recurses on it."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise YamlError(
                    f"nested more than {MAX_DEPTH} levels deep; flatten the structure",
                    mark.line + 1 if mark else None,
                    mark.column + 1 if mark else None,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise YamlError(
            f"byte 0x{raw[err.start]:02x} at offset {err.start} is not UTF-8; "
            "save the file as UTF-8",
            line,
            column,
        ) from None


def read_yaml(path: Path) -> tuple[bytes, Document]:
    """Read and parse a YAML file (its bytes too, to hash them), refusing symlinks, other
    non-files and oversized files before reading."""
    if path.is_symlink():
        raise YamlError("is a symbolic link; commit the file itself")
    if not path.is_file():
        raise YamlError("does not exist or is not a file")
    _check_size(path.stat().st_size)
    raw = path.read_bytes()
    return raw, parse_yaml(raw)
