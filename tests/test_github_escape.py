"""Escaping participant strings for Markdown and workflow commands."""

from __future__ import annotations

import re

import pytest

from runner.github.escape import ZWJ, clean, md_text, workflow_data, workflow_property

PAYLOAD = "@org/x <img src=x> [a](javascript:x)"


def test_injection_payload_is_neutralised():
    out = md_text(PAYLOAD)
    assert out == f"\\@{ZWJ}org\\/x &lt;img src\\=x&gt; \\[a\\]\\(javascript\\:x\\)"
    assert "<" not in out and "](" not in out
    assert not re.search(r"(?<!\\)@\w", out)  # no mention can form


@pytest.mark.parametrize(
    ("raw", "forbidden"),
    [
        ("see #12 and org/repo#3", "#1"),
        ("https://evil.example/x", "://"),
        ("www.evil.example", "www."),
        ("![img](https://x/y.png)", "!["),
        ("--> <!-- x", "-->"),
        ("| a | b |", " | "),
        ("<script>alert(1)</script>", "<script"),
        ("`code` **bold**", "**"),
        ("mail me: a@b.example", "@b"),
    ],
)
def test_markdown_constructs_cannot_form(raw, forbidden):
    assert forbidden not in md_text(raw)


def test_control_bidi_and_newlines_are_removed():
    assert clean("a\u202eb\x00c\nd\r\n\te") == "abc d e"
    assert md_text("line1\n# heading") == "line1 \\#" + ZWJ + " heading"


def test_length_is_bounded():
    out = md_text("x" * 10_000, max_len=50)
    assert out == "x" * 49 + "…"


def test_workflow_command_escapes():
    assert workflow_data("50%\nnext") == "50%25 next"
    assert workflow_property("a:b,c") == "a%3Ab%2Cc"
