"""The built site in headless Chromium (Debian's, driven by Playwright) over loopback HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
from site_repo import EVALS, NOW, XSS_TEXT, make_repo, result

import runner.site.sources as sources
from runner.cli.site import serve_folder
from runner.site import build_site

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


def with_hostile_team(load_results):
    """The records plus one whose team name is an XSS payload.

    The record schema refuses such a name, so it is added after loading: the test shows
    the pages escape it even if a hostile string ever got past the schema.
    """

    def load(results_dir, challenge=None):
        loaded = load_results(results_dir, challenge)
        hostile = replace(result(EVALS[3], 99), team=XSS_TEXT, participant="eve", submission="evil")
        return replace(loaded, results=(*loaded.results, hostile))

    return load


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    root = make_repo(tmp_path_factory.mktemp("repo"))
    env = {"CHALLENGE_RUNNER_SITE_NOW": NOW}
    with (
        mock.patch.dict(os.environ, env),
        mock.patch.object(sources, "load_results", with_hostile_team(sources.load_results)),
    ):
        site = build_site(root, root / "public")
    server = serve_folder(site, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


class Watched:
    """A page whose console errors, dialogs and non-loopback requests are recorded."""

    def __init__(self, browser, width: int = 1280):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def check_clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        assert self.outside == []


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def first_column(page, caption: str, column: int) -> list[str]:
    table = page.locator("table", has=page.locator(f"caption:text-is('{caption}')"))
    table.locator("tbody tr").first.wait_for()  # the page may still be loading
    return [c.strip() for c in table.locator(f"tbody tr td:nth-child({column})").all_inner_texts()]


def test_home_lists_the_challenges(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url)
    rows = w.page.locator(".cr-sortable tbody tr")
    assert rows.count() == 2
    assert "Cell classification" in rows.nth(0).inner_text()
    assert "CLOSED" in rows.nth(0).inner_text().upper()
    shot(w.page, "home.png")
    w.check_clean()


def test_leaderboard_order_and_sorting_by_click(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url)
    w.page.locator(".cr-sortable a", has_text="Cell classification").click()
    w.page.wait_for_url("**/challenges/cells/index.html")
    caption = "Ranking (public split)"
    assert first_column(w.page, caption, 2) == [
        "carol", f"{XSS_TEXT} (eve)", "red-team (alice)", "maint baseline", "bob",
    ]  # fmt: skip
    table = w.page.locator("table", has=w.page.locator(f"caption:text-is('{caption}')"))
    table.locator("th button", has_text="log_loss").click()  # lower is better: ascending
    assert first_column(w.page, caption, 5)[0].startswith("0.200")
    table.locator("th button", has_text="log_loss").click()
    assert first_column(w.page, caption, 5)[0].startswith("0.350")
    assert table.locator("th", has_text="log_loss").get_attribute("aria-sort") == "descending"
    table.locator("th button", has_text="Rank").click()
    assert first_column(w.page, caption, 1) == ["1", "2", "3", "4", "—"]  # no rank sorts last
    assert w.page.locator("svg.cr-chart").count() == 2
    shot(w.page, "challenge.png")
    w.check_clean()


def test_submission_page_opens_and_shows_payloads_as_text(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url + "challenges/cells/index.html")
    w.page.locator("a", has_text="xss").first.click()
    w.page.wait_for_url("**/challenges/cells/submissions/carol/xss.html")
    assert w.page.locator("h1").first.inner_text() == "xss"
    description = w.page.locator(".cr-description").inner_text()
    assert description == XSS_TEXT
    assert w.page.locator(".cr-description img, .cr-description script").count() == 0
    assert w.page.locator("a[href^='javascript']").count() == 0
    shot(w.page, "submission.png")
    w.check_clean()


def test_hostile_team_is_text_on_the_board(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url + "challenges/cells/index.html")
    cell = w.page.locator("td strong", has_text="<script>alert(1)</script>").first
    assert cell.inner_text() == XSS_TEXT
    assert w.page.locator("img[src='x']").count() == 0
    w.check_clean()


def test_phone_width(browser, base_url: str) -> None:
    w = Watched(browser, width=390)
    w.page.goto(base_url + "challenges/cells/index.html")
    # the page itself does not scroll sideways: wide tables scroll inside their wrapper
    assert w.page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(w.page, "challenge-phone.png")
    w.check_clean()


def heading(page) -> str:
    """The page's h1 without its permalink mark."""
    return page.locator("h1").first.evaluate("e => e.firstChild.textContent")


def page_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_phone_width_board_keeps_rank_and_participant_in_view(browser, base_url: str) -> None:
    w = Watched(browser, width=390)
    w.page.goto(base_url + "challenges/cells/index.html")
    assert page_overflow(w.page) <= 0
    caption = "Ranking (public split)"
    table = w.page.locator("table", has=w.page.locator(f"caption:text-is('{caption}')"))
    # Material wraps each table in a scrolling block
    wrapper = w.page.locator(".md-typeset__scrollwrap", has=table)
    # the board is wider than the phone: it scrolls inside its block ...
    assert wrapper.evaluate("e => e.scrollWidth > e.clientWidth + 100")
    wrapper.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    assert wrapper.evaluate("e => e.scrollLeft") > 100
    # ... and its first two columns stay on screen while the rest scrolls under them
    first = table.locator("tbody tr").first
    for n in (1, 2):
        box = first.locator(f"td:nth-child({n})").bounding_box()
        assert box is not None and box["x"] >= 16 and box["x"] + box["width"] <= 390, (n, box)
    assert first.locator("td:nth-child(2)").inner_text() == "carol"
    ARTIFACTS.mkdir(exist_ok=True)
    wrapper.screenshot(path=str(ARTIFACTS / "board-phone-scrolled.png"))
    w.check_clean()


def test_phone_width_participant_page(browser, base_url: str) -> None:
    w = Watched(browser, width=390)
    w.page.goto(base_url + "participants/carol.html")
    assert page_overflow(w.page) <= 0
    shot(w.page, "participant-phone.png")
    w.check_clean()


def test_participant_page_lists_every_evaluation_and_what_counts(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url + "challenges/cells/index.html")
    caption = "Ranking (public split)"
    table = w.page.locator("table", has=w.page.locator(f"caption:text-is('{caption}')"))
    table.locator("a", has_text="carol").first.click()
    w.page.wait_for_url("**/participants/carol.html")
    assert heading(w.page) == "carol"
    rows = w.page.locator("table.cr-history tbody tr")
    texts = [" | ".join(t.split("\t")) for t in rows.all_inner_texts()]
    assert len(texts) == 3
    assert texts[0].startswith("2027-03-03 10:07 UTC | xss | final | scored | 0.9600 | ")
    assert "rank 2 of 2 (final, private split)" in texts[0]
    assert "invalid | — | no | column 'malignant' is missing" in texts[1]
    assert "rank 1 of 4 (open, public split)" in texts[2]
    # and each row links to its submission page
    rows.first.locator("a", has_text="xss").click()
    w.page.wait_for_url("**/challenges/cells/submissions/carol/xss.html")
    w.page.locator(".cr-byline a", has_text="carol").click()
    w.page.wait_for_url("**/participants/carol.html")
    shot(w.page, "participant.png")
    w.check_clean()


def test_team_page_from_the_board(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url + "challenges/cells/index.html")
    w.page.locator("td a", has_text="red-team").first.click()
    w.page.wait_for_url("**/teams/red-team.html")
    assert heading(w.page) == "red-team"
    assert "Members: alice" in w.page.locator(".md-content").inner_text()
    assert w.page.locator("table.cr-history tbody tr").count() == 2
    w.check_clean()


def test_search_finds_a_participant_by_login(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url)
    w.page.locator("input.md-search__input").click()
    w.page.keyboard.type("carol")  # Material searches on key events, which fill() skips
    result = w.page.locator(".md-search-result__item a", has_text="carol").first
    result.wait_for()
    shot(w.page, "search-carol.png")
    result.click()
    w.page.wait_for_url("**/participants/carol.html*")
    assert heading(w.page) == "carol"
    w.check_clean()


def test_search_finds_a_row_of_a_participants_history(browser, base_url: str) -> None:
    """Words only a history row holds (an evaluation's message) find the participant's page;
    the row's hostile message is indexed escaped and stays text in the results."""
    w = Watched(browser)
    w.page.goto(base_url)
    w.page.locator("input.md-search__input").click()
    w.page.keyboard.type("onerror")
    w.page.locator(".md-search-result__item").first.wait_for()
    assert w.page.locator(".md-search-result img, .md-search-result script").count() == 0
    w.page.locator("input.md-search__input").fill("")
    w.page.keyboard.type("malignant missing")
    result = w.page.locator(".md-search-result__item a[href*='participants/carol.html']").first
    result.wait_for()
    assert "column 'malignant' is missing" in result.inner_text()
    result.scroll_into_view_if_needed()
    shot(w.page, "search-history.png")
    result.click()
    w.page.wait_for_url("**/participants/carol.html*")
    assert heading(w.page) == "carol"
    w.check_clean()


def chart_tip(page, point) -> str:
    tip = point.locator(".cr-tip")
    assert tip.evaluate("e => getComputedStyle(e).visibility") == "visible"
    return tip.text_content()


def test_chart_points_show_who_which_and_score_on_hover_and_focus(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url + "challenges/cells/index.html")
    chart = w.page.locator("svg.cr-chart").last  # the open phase (latest started first)
    points = chart.locator(".cr-point")
    assert points.count() == 5  # 4 scored evaluations and the hostile team's
    carol = chart.locator(".cr-point[aria-label^='carol · xss: 0.9500']")
    assert carol.locator(".cr-tip").evaluate("e => getComputedStyle(e).visibility") == "hidden"
    carol.locator("circle").hover()
    assert chart_tip(w.page, carol) == "carol · xss: 0.9500, 2027-01-07 10:03 UTC"
    assert carol.get_attribute("href") == "submissions/carol/xss.html"
    shot(w.page, "chart-hover.png")
    points.first.focus()
    assert chart_tip(w.page, points.first) == "red-team · gbm: 0.9000, 2027-01-04 10:00 UTC"
    shot(w.page, "chart-focus.png")
    # every label and tick is inside the drawing: nothing clipped at either side or below
    box = chart.bounding_box()
    for text in chart.locator("text.cr-tick, text.cr-axis-label").all():
        b = text.bounding_box()
        assert b is not None and box is not None
        assert box["x"] - 0.5 <= b["x"] and b["x"] + b["width"] <= box["x"] + box["width"] + 0.5
        assert b["y"] + b["height"] <= box["y"] + box["height"] + 0.5
    w.page.keyboard.press("Tab")  # the next point takes the focus, with its label
    assert chart_tip(w.page, points.nth(1)) == "red-team · gbm: 0.9300, 2027-01-06 10:01 UTC"
    w.check_clean()


def test_challenge_page_has_how_to_submit_and_badge_snippets(browser, base_url: str) -> None:
    w = Watched(browser)
    w.page.goto(base_url + "challenges/cells/index.html")
    w.page.locator(".cr-actions a", has_text="How to submit").click()
    w.page.wait_for_url("**/how-to-submit.html")
    w.page.go_back()
    snippet = w.page.locator("pre.cr-snippet").first.inner_text()
    assert snippet == (
        "[![cells](https://img.shields.io/endpoint?url=https://YOUR-SITE/challenges/cells/"
        "badges/leader.json)](https://YOUR-SITE/challenges/cells/index.html)"
    )
    w.check_clean()
