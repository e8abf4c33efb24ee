"""Neutralise participant-controlled text before it reaches Markdown or a workflow log.

GitHub renders comments, step summaries and check output as GitHub-flavoured Markdown with
a sanitising HTML filter. A participant string (team name, description, error text quoting
a manifest) must not be able to: mention users or teams (``@org/x`` notifies them),
reference issues (``#12`` cross-links and notifies), inject HTML (``<img src=x>``), links or
images (``[a](javascript:x)``, ``![x](...)``, bare ``https://`` autolinks), break a table
cell (``|``), start block structure, or close the hidden marker comment (``-->``).

``md_text`` does it for inline use: control and bidi characters are dropped, newlines become
spaces, the text is cut to a bound, ``& < > "`` become entities, every other ASCII
punctuation character is backslash-escaped (CommonMark makes any escaped punctuation
literal), and a zero-width joiner follows ``@`` and ``#`` and breaks ``://`` and ``www.`` so
mentions, references and autolinks never form. The result reads the same to a person.

``visible`` is the character filter alone; the site applies it to every participant string
it prints (Jinja2's ``finalize`` and ``runner.site.fmt.text``), so the site and the comment
drop the same characters: bidi controls (U+202A-202E, U+2066-2069, marks), zero-width and
other format characters (Unicode category Cf), controls, surrogates and private-use ones.
"""

from __future__ import annotations

import re
import unicodedata

ZWJ = "\u200d"
DEFAULT_MAX = 200
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_PUNCT = set("!#$%'()*+,-./:;=?@[\\]^_`{|}~")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_AUTOLINK = re.compile(r"(://|www\.)", re.IGNORECASE)


def _hidden(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")


def visible(text: str, keep: str = "\n\t") -> str:
    """``text`` without the characters a reader cannot see (``keep`` excepted)."""
    return "".join(ch for ch in str(text) if ch in keep or not _hidden(ch))


def clean(text: str, max_len: int = DEFAULT_MAX) -> str:
    """Drop control/format characters, fold whitespace to single spaces, cut to ``max_len``."""
    spaced = str(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    folded = " ".join(visible(spaced, keep="").split())
    return folded if len(folded) <= max_len else folded[: max_len - 1].rstrip() + "…"


def md_text(text: object, max_len: int = DEFAULT_MAX) -> str:
    """Inline-safe Markdown for a participant string (see the module docstring)."""
    plain = _AUTOLINK.sub(lambda m: m.group(0)[0] + ZWJ + m.group(0)[1:], clean(str(text), max_len))
    out = []
    for ch in plain:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in "@#":
            out.append("\\" + ch + ZWJ)
        elif ch in _PUNCT:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def workflow_data(text: object, max_len: int = 2000) -> str:
    """Escape the message part of a ``::command ...::message`` workflow command.

    Newlines would end the command and let the next line be read as a new one
    (``::add-mask::``, ``::stop-commands::``); the runner decodes these escapes back.
    """
    value = clean(str(text), max_len) if max_len else str(text)
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: object) -> str:
    """Escape a property value (``file=``, ``title=``) of a workflow command."""
    return workflow_data(text, 500).replace(":", "%3A").replace(",", "%2C")
