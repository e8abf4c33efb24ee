"""What ``mkdocs.yml`` may ask for before MkDocs reads it: nothing that runs code.

MkDocs executes Python named by its config: ``hooks:`` (files run as modules), plugins and
Markdown extensions (imported by name), and ``!!python/...`` YAML tags. A pull request that
edits ``mkdocs.yml`` (the challenge workflow builds the site of a pull request) would run its
own code that way. CI builds with the base branch's ``mkdocs.yml``; this check refuses the
code-running keys whoever wrote the file, so a local build of a pull request is safe too.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

__all__ = ["PLUGINS", "check_config"]

PLUGINS = frozenset({"search", "challenge-runner", "tags", "offline"})
_EXTENSIONS = frozenset(
    ("abbr", "admonition", "attr_list", "def_list", "extra", "fenced_code", "footnotes",
     "legacy_attrs", "legacy_em", "md_in_html", "meta", "nl2br", "sane_lists", "smarty",
     "tables", "toc", "wikilinks", "codehilite")
)  # fmt: skip
_TAG = re.compile(r"!!python/|!python/", re.IGNORECASE)


class _Loader(yaml.SafeLoader):
    """Safe YAML plus MkDocs' harmless ``!ENV`` and ``!relative`` tags (read as plain text)."""


for _tag in ("!ENV", "!relative"):
    _Loader.add_constructor(_tag, lambda loader, node: None)


def check_config(path: Path) -> list[str]:
    """Every problem with ``path`` (a ``mkdocs.yml``), each saying what to remove."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if _TAG.search(text):
        return ["a !!python/ tag imports code; remove it"]
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return [f"not readable as YAML{where}: {getattr(err, 'problem', None) or err}"]
    if not isinstance(data, dict):
        return ["the file must be a YAML mapping"]
    problems = [
        f"{key}: {why}; remove it"
        for key, why in (("hooks", "runs Python files"), ("INHERIT", "reads another config"))
        if key in data
    ]
    problems += [
        f"plugins: {name!r} is not one of {sorted(PLUGINS)}; remove it"
        for name in _names(data.get("plugins"))
        if name.removeprefix("material/") not in PLUGINS
    ]
    problems += [
        f"markdown_extensions: {name!r} is not a Python-Markdown or pymdownx extension"
        for name in _names(data.get("markdown_extensions"))
        if not _known_extension(name)
    ]
    return problems


def _names(entries: object) -> list[str]:
    """The names in a MkDocs list of ``name`` or ``{name: options}`` entries."""
    if isinstance(entries, dict):
        return [str(k) for k in entries]
    names: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        names += [str(k) for k in entry] if isinstance(entry, dict) else [str(entry)]
    return names


def _known_extension(name: str) -> bool:
    short = name.removeprefix("markdown.extensions.")
    return short in _EXTENSIONS or re.fullmatch(r"pymdownx\.[a-z_]+", name) is not None
