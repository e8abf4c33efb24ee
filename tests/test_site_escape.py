"""Invisible characters (bidi controls, zero-width and other format characters) in a
participant's text: the built site drops exactly what the PR comment drops."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

from site_repo import make_repo

from runner.github.escape import md_text, visible
from runner.site import build_site, fmt

# U+202E turns "evil‮gnp.exe" into "evilexe.png" on screen; the others hide or reorder text.
HIDDEN = "\u202e\u202a\u2066\u200f\u200b\u200d\u2060\ufeff\u00ad\u0007"
SHOWN = "evil" + HIDDEN[:4] + "gnp.exe" + HIDDEN[4:] + " done"
VISIBLE = "evilgnp.exe done"


def _hostile_repo(root: Path) -> Path:
    make_repo(root, description="placeholder")
    [manifest] = (root / "submissions/cells/carol").glob("xss.yaml")
    escaped = SHOWN.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00")
    text = manifest.read_text().replace("'placeholder'", f'"{escaped}"')
    manifest.write_text(text, encoding="utf-8")
    return root


def test_the_built_site_drops_what_the_comment_drops(tmp_path: Path) -> None:
    root = _hostile_repo(tmp_path / "repo")
    with mock.patch.dict(os.environ, {"CHALLENGE_RUNNER_SITE_NOW": "2027-01-10T12:00:00Z"}):
        site = build_site(root, root / "public")
    page = (site / "challenges/cells/submissions/carol/xss.html").read_text(encoding="utf-8")
    assert VISIBLE in page
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not set(HIDDEN[:-1]) & set(text), html  # no bidi or zero-width character left
    assert md_text(SHOWN) == "evilgnp\\.exe done"  # the comment's escaping, same filter


def test_one_filter_for_comment_and_site() -> None:
    assert visible(SHOWN) == VISIBLE
    assert str(fmt.text(SHOWN + "<b>")) == VISIBLE + "&lt;b&gt;"
    assert str(fmt.link("https://example.org", SHOWN)).endswith(f">{VISIBLE}</a>")
    assert fmt.shown(SHOWN) == VISIBLE and fmt.shown(3) == 3
    assert visible("a\nb\tc") == "a\nb\tc"  # layout characters are the page's business
