"""Read a Dockerfile the way Docker 20.10's builder does, as data (no engine involved).

The policy in ``runner.images.policy`` must judge exactly the instructions the daemon will
execute, so this follows the daemon's parser (moby ``builder/dockerfile/parser``), not a
simplification of it: parser directives only in the leading comment lines (``# escape=``
switches the escape character to a backtick), a line continued by the escape character
followed only by blanks, full-line comments and blank lines dropped inside a continuation,
a byte-order mark stripped, instruction names case-insensitive, ``--flags`` before the
arguments, and the JSON (exec) form when the arguments parse as a JSON list of strings.
Heredocs are not part of that builder's syntax: their lines are instructions to it, and
here too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["Instruction", "parse", "words"]

_ESCAPE = re.compile(r"^#[ \t]*escape[ \t]*=[ \t]*(.)")
_BLANKS = re.compile(r"[\t\v\f\r ]+")
_FLAG = re.compile(r"^--[a-zA-Z][a-zA-Z0-9-]*(=\S*)?$")


@dataclass(frozen=True)
class Instruction:
    """One logical instruction: ``line`` is where it starts (1-based), ``name`` upper-case."""

    line: int
    name: str
    flags: tuple[str, ...]
    args: str  # the rest of the logical line, continuations joined, escapes kept
    json_args: tuple[str, ...] | None  # the exec form, when ``args`` is a JSON string list
    text: str  # the whole logical line as the daemon reads it


def parse(text: str) -> tuple[str, list[Instruction]]:
    """The escape character and the instructions of ``text``, in order."""
    # Lines end at "\n" only (Go's bufio.ScanLines, which also drops a trailing "\r").
    lines = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    escape, start = _directives(lines)
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    out: list[Instruction] = []
    index = start
    while index < len(lines):
        first = index
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        logical, ended = _trim(line, continuation)
        while not ended and index < len(lines):
            raw = lines[index]
            index += 1
            if raw.strip().startswith("#") or not raw.strip():
                continue
            more, ended = _trim(raw, continuation)
            logical += more
        out.append(_instruction(first + 1, logical))
    return escape, out


def _directives(lines: list[str]) -> tuple[str, int]:
    """The escape character and the index of the first line after the parser directives.

    Docker 20.10 knows one directive, ``escape``; the first line that is not one (even
    ``# syntax=...``) ends them. It refuses a second one or a character other than ``\\``
    and a backtick; so does ``runner.images.policy``."""
    escape: str | None = None
    index = 0
    while index < len(lines):
        match = _ESCAPE.match(lines[index].lstrip().lower())
        if match is None:
            break
        # A second directive is refused by the daemon; "" makes the policy refuse it too.
        escape = "" if escape is not None else match.group(1)
        index += 1
    return ("\\" if escape is None else escape), index


def _trim(line: str, continuation: re.Pattern[str]) -> tuple[str, bool]:
    if continuation.search(line):
        return continuation.sub("", line), False
    return line, True


def _instruction(line: int, logical: str) -> Instruction:
    text = logical.strip()
    name, rest = [*_BLANKS.split(text, maxsplit=1), ""][:2]
    flags, args = _split_flags(rest.strip())
    return Instruction(line, name.upper(), flags, args, _json_form(args), text)


def _split_flags(rest: str) -> tuple[tuple[str, ...], str]:
    flags: list[str] = []
    while rest.startswith("--"):
        word, _, tail = rest.partition(" ")
        if not _FLAG.match(word):
            break
        flags.append(word)
        rest = tail.lstrip()
    return tuple(flags), rest


def _json_form(args: str) -> tuple[str, ...] | None:
    if not args.startswith("["):
        return None
    try:
        value = json.loads(args)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def words(args: str, escape: str) -> list[str]:
    """Split shell-form arguments into words as the builder's lexer does: blanks separate,
    quotes group and are removed, the escape character makes the next character literal.
    ``$`` is left in place (the policy refuses variables where they matter)."""
    out: list[str] = []
    word: list[str] = []
    quote = ""
    chars = iter(args)
    started = False
    for ch in chars:
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote == '"':
                word.append(next(chars, ""))
            else:
                word.append(ch)
        elif ch in "'\"":
            quote, started = ch, True
        elif ch == escape:
            word.append(next(chars, ""))
            started = True
        elif ch in " \t":
            if started:
                out.append("".join(word))
            word, started = [], False
        else:
            word.append(ch)
            started = True
    if started:
        out.append("".join(word))
    return out
