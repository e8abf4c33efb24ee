"""The leaderboard site: a real `mkdocs build --strict` of a small repository, then its files."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape as html_unescape
from pathlib import Path
from unittest import mock

import pytest
from site_repo import EVALS, NOW, REPO, XSS_TEXT, Eval, make_repo, result

from runner.cli import main as cli_main
from runner.leaderboard import Board, Entry
from runner.models import Score
from runner.site import SiteError, build_site, clidoc, fmt
from runner.site.chart import best_per_day, nice_ticks, score_chart, time_ticks
from runner.site.pages import board_fragment
from runner.site.sources import ChallengeData, MetricView
from runner.site.status import challenge_status

BEFORE_REVEAL = "2027-03-05T00:00:00Z"


def build(root: Path, now: str, **kwargs) -> Path:
    with mock.patch.dict(os.environ, {"CHALLENGE_RUNNER_SITE_NOW": now}):
        return build_site(root, root / "public", **kwargs)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("repo"))
    return build(root, NOW)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def board_rows(html: str, caption: str) -> list[list[str]]:
    """The cells (as text) of the table whose caption is ``caption``."""
    table = html.split(f"<caption>{caption}</caption>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [[text_of(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


# ------------------------------------------------------------------ pages


def test_home_lists_challenges_with_status_counts_and_leader(site: Path) -> None:
    home = (site / "index.html").read_text()
    rows = board_rows(home.replace("<thead>", "<caption>home</caption><thead>", 1), "home")
    assert rows == [
        [
            "Cell classification Tell malignant cells from benign ones.",
            "closed closed on 2027-03-08",
            "3",
            "4",
            "bob roc_auc 0.9700",
        ],
        [
            "Later challenge Opens next year.",
            "upcoming upcoming: phase main opens in 296 days 12 hours",
            "0",
            "0",
            "no scored submission yet",
        ],
    ]
    assert 'href="challenges/cells/index.html"' in home


def test_open_board_order_scores_and_intervals(site: Path) -> None:
    page = (site / "challenges/cells/index.html").read_text()
    assert board_rows(page, "Ranking (public split)") == [
        ["1", "carol", "xss", "0.9500 [0.9300, 0.9700]", "0.200 [0.190, 0.210]", "2", "2027-01-07"],
        ["2", "red-team ( alice )", "gbm", "0.9300 [0.9100, 0.9500]", "0.280 [0.270, 0.290]", "2",
         "2027-01-06"],
        ["—", "maint baseline", "baseline", "0.9100 [0.8900, 0.9300]", "0.300 [0.290, 0.310]",
         "1", "2027-01-02"],
        ["3", "bob", "forest", "0.9000 [0.8800, 0.9200]", "0.350 [0.340, 0.360]", "1",
         "2027-01-05"],
    ]  # fmt: skip
    assert 'href="submissions/alice/gbm.html"' in page


def test_revealed_private_board_ranks_on_private_scores(site: Path) -> None:
    page = (site / "challenges/cells/index.html").read_text()
    rows = board_rows(page, "Final ranking (private split)")
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("1", "bob", "0.9700 [0.9400, 0.9900]"),
        ("2", "carol", "0.8500 [0.8200, 0.8700]"),
    ]
    assert [r[1] for r in board_rows(page, "Public split (for reference)")] == ["carol", "bob"]


def test_private_board_hidden_before_the_reveal(tmp_path: Path) -> None:
    site = build(make_repo(tmp_path), BEFORE_REVEAL)
    page = (site / "challenges/cells/index.html").read_text()
    assert "Final ranking (private split)" not in page
    assert "It is published here on 2027-03-08 00:00 UTC" in page
    assert [r[1] for r in board_rows(page, "Provisional ranking (public split)")] == [
        "carol",
        "bob",
    ]
    assert not (site / "challenges/cells/leaderboard/final/private").exists()
    # even a record holding clear private scores does not show them before the reveal
    sub = (site / "challenges/cells/submissions/bob/forest.html").read_text()
    assert "Private split" not in sub and "0.9700" not in sub


def test_challenge_page_overview_rules_data_and_chart(site: Path) -> None:
    page = (site / "challenges/cells/index.html").read_text()
    assert "Predict the probability that a cell is <strong>malignant</strong>" in page
    assert '<a href="public/train.csv">the training set</a>' in page
    assert (site / "challenges/cells/public/train.csv").read_text().startswith("id,x,malignant")
    assert "Intervals are 90% confidence intervals over the test rows" in page
    assert (
        "<td><code>log_loss</code></td> <td><code>malignant</code></td> <td>lower</td> <td>3</td> "
        "<td>percentile bootstrap over rows (normal interval of the mean loss on large sets)"
        "</td>" in page
    )
    assert "<td>DeLong&#39;s variance</td>" in page or "<td>DeLong's variance</td>" in page
    assert page.count('<svg class="cr-chart"') == 2
    # open phase: 4 participant evaluations scored (carol's invalid one is not a dot)
    assert 'aria-label="roc_auc (public split) of 4 scored evaluations over time' in page
    assert page.count('class="cr-baseline-line"') == 1
    assert 'aria-label="roc_auc (private split) of 2 scored evaluations' in page


def test_submission_page_scores_history_and_provenance(site: Path) -> None:
    page = (site / "challenges/cells/submissions/bob/forest.html").read_text()
    assert "<title>forest · Cell classification" in page
    assert "Rank <strong>1</strong> of 2 on the private board of phase <code>final</code>" in page
    assert "Rank <strong>3</strong> of 3 on the public board of phase <code>open</code>" in page
    text = text_of(page)
    assert "roc_auc ↑ 0.8800 [0.8600, 0.9000] 0.9700 [0.9400, 0.9900]" in text
    assert "1234567890abcdef1234567890abcdef12345678" in text
    assert "#46" in text  # the latest evaluation's pull request
    assert text.count("scored") >= 2
    # the page is the theme's: palette toggle, stylesheet and the site's own script
    assert 'data-md-color-scheme="default"' in page
    assert "../../../../assets/challenge-runner/site.js" in page
    assert "CRSHELL" not in page and "cr-slot" not in page
    assert not (site / "challenges/_shell").exists()
    assert "_shell" not in (site / "sitemap.xml").read_text()
    assert "CRSHELL" not in (site / "search/search_index.json").read_text()


def test_invalid_evaluation_shows_status_and_message(site: Path) -> None:
    page = (site / "challenges/cells/submissions/carol/xss.html").read_text()
    assert 'cr-status-invalid">invalid</span>' in page
    assert "column &#39;malignant&#39; is missing" in page


# Every participant's exact public roc_auc values and interval bounds that no baseline or
# revealed private score shares (see site_repo.EVALS), as the site prints them.
UNRELEASED = ("0.8600", "0.8800", "0.9500", "0.9600", "0.9800")


def without_charts(html: str) -> str:
    return re.sub(r"<svg .*?</svg>", "", html, flags=re.S)  # axis ticks are round numbers


@pytest.fixture(scope="module")
def ladder_site(tmp_path_factory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("ladder"))
    config = root / "challenges/cells/challenge.yaml"
    text = config.read_text().replace(
        "leaderboard: {ci: 0.9}", "leaderboard: {ci: 0.9, ladder: true}"
    )
    config.write_text(text)
    return build(root, NOW)


def test_without_the_ladder_each_evaluations_public_score_is_shown(site: Path) -> None:
    # the control for the test below: the same values are on the pages of a plain board
    pages = " ".join(without_charts(p.read_text()) for p in site.rglob("submissions/*/*.html"))
    assert [v for v in UNRELEASED if v not in pages] == []
    assert "withheld" not in pages


def test_the_ladder_site_shows_no_public_score_the_board_withholds(ladder_site: Path) -> None:
    for path in ladder_site.rglob("*"):
        if path.suffix in (".html", ".json", ".csv"):
            shown = without_charts(path.read_text())
            assert [v for v in UNRELEASED if v in shown] == [], path
    board = json.loads(
        (ladder_site / "challenges/cells/leaderboard/open/public/leaderboard.json").read_text()
    )
    released = {e["entrant"]: e["scores"]["roc_auc"] for e in board["entries"]}
    assert board["ladder"] is True
    # the rounded releases carry no interval: its centre would be the exact score
    assert {k: (round(v["value"], 4), v["ci_low"]) for k, v in released.items()} == {
        "carol": (0.9484, None),
        "alice": (0.9241, None),
        "bob": (0.8998, None),
        "maint": (0.91, 0.89),  # baselines are not under the Ladder
    }
    page = (ladder_site / "challenges/cells/index.html").read_text()
    assert [r[:4] for r in board_rows(page, "Ranking (public split)")] == [
        ["1", "carol", "xss", "0.9484"],
        ["2", "red-team ( alice )", "gbm", "0.9241"],
        ["—", "maint baseline", "baseline", "0.9100 [0.8900, 0.9300]"],
        ["3", "bob", "forest", "0.8998"],
    ]


def test_ladder_submission_pages_withhold_public_scores(ladder_site: Path) -> None:
    alice = text_of((ladder_site / "challenges/cells/submissions/alice/gbm.html").read_text())
    assert (
        "Rank 2 of 3 on the public board of phase open , with the released score roc_auc 0.9241."
        in alice
    )
    assert "Metric Public split roc_auc ↑ withheld log_loss ↓ withheld Public split withheld: " \
        "the Ladder releases only improvements." in alice  # fmt: skip
    history = alice.split("Evaluation ", 1)[1].split("Provenance", 1)[0]
    assert history.count("scored withheld") == 2
    # revealed private scores are shown as before; only the public split is withheld
    bob = text_of((ladder_site / "challenges/cells/submissions/bob/forest.html").read_text())
    assert "roc_auc ↑ withheld 0.9700 [0.9400, 0.9900]" in bob


def test_ladder_chart_plots_the_boards_released_scores(ladder_site: Path) -> None:
    page = (ladder_site / "challenges/cells/index.html").read_text()
    # open phase: the board's 3 entrants, not the 4 scored evaluations
    assert 'aria-label="roc_auc (public split) of 3 released scores over time' in page
    assert "scored evaluations over time" not in page.split("Score over time (open)")[1]
    assert "Dots: the score the board shows for each entrant" in page
    # the revealed private board is not under the Ladder: every evaluation, as before
    assert 'aria-label="roc_auc (private split) of 2 scored evaluations' in page
    assert "the public score of a single evaluation is not published" in page


# ------------------------------------------------------------------ escaping


def assert_inert(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html.lower()


def test_participant_text_is_escaped_everywhere(site: Path) -> None:
    page = (site / "challenges/cells/submissions/carol/xss.html").read_text()
    assert_inert(page)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
    assert page.count(escaped) == 2  # description and the evaluation's message
    assert "[a](javascript:alert(1))" in page  # Markdown link syntax stays text
    assert '<a href="https://example.org/code" rel="nofollow noopener">' in page
    for html in site.rglob("*.html"):
        assert_inert(html.read_text())


def search_words(site: Path) -> dict[str, list[str]]:
    """Each page's words as the search index holds them, split as Material's search splits
    them (its default separator ``[\\s\\-]+``), all sections of a page together."""
    index = json.loads((site / "search/search_index.json").read_text())
    words: dict[str, list[str]] = {}
    for doc in index["docs"]:
        text = html_unescape(re.sub(r"<[^>]+>", " ", f"{doc['title']} {doc['text']}"))
        words.setdefault(doc["location"].split("#")[0], []).extend(
            w for w in re.split(r"[\s\-]+", text) if w
        )
    return words


def test_search_indexes_the_whole_history_of_participants_and_teams(site: Path) -> None:
    """The history tables are in the index (not only the heading): each row's submission,
    phase, status, score and what counts, as separate words, with the challenge's title."""
    words = search_words(site)
    carol = " ".join(words["participants/carol.html"])
    assert "Cell classification" in carol
    assert (
        "2027-03-03 10:07 UTC xss final scored 0.9600 rank 2 of 2 (final, private split)"
    ).replace("-", " ") in carol
    assert "xss open invalid — no column 'malignant' is missing" in carol
    assert "xss open scored 0.9500 rank 1 of 3 (open, public split)" in carol
    team = " ".join(words["teams/red-team.html"])
    assert "gbm (alice) open scored 0.9300 rank 2 of 3 (open, public split)" in team
    # boards are searchable too (a submission name finds its challenge), charts are not
    board = words["challenges/cells/index.html"]
    assert "forest" in board and "0.9700" in board
    assert "UTCxss" not in carol and "forest:" not in board  # no glued cells, no chart labels
    home = " ".join(words["index.html"])
    assert "Cell classification Tell malignant cells" in home and "bob roc_auc 0.9700" in home
    people = " ".join(words["participants.html"])
    assert "carol (3 evaluations) " in people


def test_hostile_team_name_in_a_board_is_text() -> None:
    rec = replace(result(EVALS[0], 0), team=XSS_TEXT, participant="alice")
    entry = Entry(1, XSS_TEXT, "alice", XSS_TEXT, 'x"><b>', {"roc_auc": Score(0.9)},
                  rec.created_at, 1, False, rec)  # fmt: skip
    board = Board("cells", "open", "public", (), (entry,), True)
    metrics = (MetricView("roc_auc", None, True, 4),)
    data = ChallengeData(mock.Mock(id="cells"), (rec,), metrics, ())
    html = board_fragment(data, board, "challenges/cells/index.html", "t")
    assert_inert(html)
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "x&#34;&gt;&lt;b&gt;" in html and "<b>" not in html
    assert 'href="submissions/alice/x-' in html  # a hostile name never becomes a path


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://example.org/a?b=1",
            '<a href="https://example.org/a?b=1" rel="nofollow noopener">',
        ),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("http://example.org/", "http://example.org/"),
        ("data:text/html,<b>x</b>", "data:text/html,&lt;b&gt;x&lt;/b&gt;"),
        ('https://x.org/"onmouseover=alert(1)', "https://x.org/&#34;onmouseover=alert(1)"),
    ],
)
def test_only_https_urls_become_links(url: str, expected: str) -> None:
    out = str(fmt.link(url))
    assert out.startswith(expected)
    assert out.startswith("<a ") == url.startswith("https://example.org")


def test_segment_keeps_safe_names_and_hashes_others() -> None:
    assert fmt.segment("alice-1.v2") == "alice-1.v2"
    assert fmt.segment("..") == fmt.segment("..") != ".."
    assert re.fullmatch(r"x-[0-9a-f]{16}", fmt.segment("../../etc"))


# ------------------------------------------------------------------ downloads and badges


def test_leaderboard_downloads(site: Path) -> None:
    folder = site / "challenges/cells/leaderboard"
    board = json.loads((folder / "open/public/leaderboard.json").read_text())
    assert [e["entrant"] for e in board["entries"]] == ["carol", "alice", "maint", "bob"]
    csv_lines = (folder / "open/public/leaderboard.csv").read_text().splitlines()
    assert len(csv_lines) == 5 and "carol" in csv_lines[1]
    private = json.loads((folder / "final/private/leaderboard.json").read_text())
    assert [e["entrant"] for e in private["entries"]] == ["bob", "carol"]
    page = (site / "challenges/cells/index.html").read_text()
    assert 'href="leaderboard/final/private/leaderboard.csv"' in page


def test_badges_are_shields_endpoint_json(site: Path) -> None:
    badges = site / "challenges/cells/badges"
    assert json.loads((badges / "leader.json").read_text()) == {
        "schemaVersion": 1,
        "label": "cells",
        "message": "leader bob (roc_auc 0.9700)",
        "color": "blue",
    }
    assert json.loads((badges / "entrants/carol.json").read_text())["message"] == "2 of 2"
    assert json.loads((badges / "entrants/bob.json").read_text())["color"] == "gold"
    assert sorted(p.name for p in badges.iterdir()) == ["entrants", "leader.json"]
    later = json.loads((site / "challenges/later/badges/leader.json").read_text())
    assert later["message"] == "no entries yet"
    page = (site / "challenges/cells/index.html").read_text()
    assert '(<a href="badges/leader.json">leader</a>, and one per participant or team at ' in page
    assert "<code>challenges/cells/badges/entrants/&lt;name&gt;.json</code>" in page


def test_entrant_badges_never_share_a_file_with_each_other_or_the_leader(tmp_path: Path) -> None:
    from runner.loader import load_challenge
    from runner.site.sources import challenge_data
    from runner.site.static import badges

    # "leader" and "x-leader" used to map to one file, badges/x-leader.json
    names = ("leader", "x-leader", "carol")
    records = [result(Eval(who, "m", 3 + i, 0.9 - i / 100, 0.3), i) for i, who in enumerate(names)]
    ch = load_challenge(make_repo(tmp_path) / "challenges/cells")
    data = challenge_data(ch, tuple(records), datetime(2027, 2, 1, tzinfo=UTC))
    files = dict(badges(data, datetime(2027, 2, 1, tzinfo=UTC)))
    assert {path: json.loads(text)["message"] for path, text in files.items()} == {
        "challenges/cells/badges/leader.json": "leader leader (roc_auc 0.9000)",
        "challenges/cells/badges/entrants/leader.json": "1 of 3",
        "challenges/cells/badges/entrants/x-leader.json": "2 of 3",
        "challenges/cells/badges/entrants/carol.json": "3 of 3",
    }


# ------------------------------------------------------------------ offline and links

RESOURCE = re.compile(
    r"<(script|img|link|iframe|source|audio|video)\b[^>]*?(src|href)=\"([^\"]*)\""
)
ANCHOR = re.compile(r"<a\b[^>]*?href=\"(https?://[^\"]*)\"")
ALLOWED_ANCHOR_HOSTS = {"example.org", "shields.io", "squidfunk.github.io", "github.com"}


def test_nothing_is_loaded_from_another_host(site: Path) -> None:
    for path in site.rglob("*.html"):
        html = path.read_text()
        for _, _, url in RESOURCE.findall(html):
            assert not re.match(r"(https?:)?//", url), f"{path}: loads {url}"
        for url in ANCHOR.findall(html):  # links are not requests, but only expected ones
            assert url.split("/")[2] in ALLOWED_ANCHOR_HOSTS, f"{path}: links {url}"
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    for path in site.rglob("*.css"):
        css = path.read_text()
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", css), path
    for path in (site / "assets/challenge-runner").iterdir():
        assert "http" not in path.read_text(), path


def test_every_relative_link_resolves(site: Path) -> None:
    for path in site.rglob("*.html"):
        if path.name == "404.html":  # MkDocs writes it with root-relative links
            continue
        for url in re.findall(r"(?:href|src)=\"([^\"#?]+)", path.read_text()):
            if re.match(r"[a-z]+:", url) or url.startswith("//"):
                continue
            assert (path.parent / url).resolve().exists(), f"{path}: broken link {url}"


def test_hand_written_pages_are_in_the_nav(site: Path) -> None:
    home = (site / "index.html").read_text()
    for page in ("how-to-submit.html", "hosting.html", "security.html", "cli.html"):
        assert f'href="{page}"' in home
        assert (site / page).exists()


# ------------------------------------------------------------------ failures and CLI


def test_unreadable_record_fails_a_strict_build_naming_the_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    bad = root / "results/cells/bob/forest/20270101T000000Z-00000000.json"
    bad.write_text("{not json")
    with pytest.raises(SiteError) as err:
        build(root, NOW)
    assert "Aborted with 1 warnings in strict mode" in str(err.value)
    assert "results/cells/bob/forest/20270101T000000Z-00000000.json" in str(err.value)
    site = build(root, NOW, strict=False)  # not strict: the site is built without it
    assert (site / "challenges/cells/submissions/bob/forest.html").exists()


def test_directory_urls_are_refused_with_a_fix(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("use_directory_urls: false", "use_directory_urls: true")
    )
    with pytest.raises(SiteError, match=re.escape("set `use_directory_urls: false` in mkdocs.yml")):
        build(root, NOW)


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match=re.escape("no mkdocs.yml here")):
        build_site(tmp_path, tmp_path / "out")


def test_cli_site_build(tmp_path: Path, capsys) -> None:
    root = make_repo(tmp_path / "repo")
    out = tmp_path / "out"
    with mock.patch.dict(os.environ, {"CHALLENGE_RUNNER_SITE_NOW": NOW}):
        code = cli_main(["site", "build", "--root", str(root), "--output", str(out)])
    assert code == 0
    assert capsys.readouterr().out.strip() == f"site built in {out}"
    assert (out / "challenges/cells/submissions/carol/xss.html").exists()


def test_cli_reference_is_current() -> None:
    current = (REPO / "site/cli.md").read_text(encoding="utf-8")
    assert current == clidoc.reference(), (
        "site/cli.md is stale: run `python -m runner.site.clidoc > site/cli.md`"
    )


def test_project_site_builds_strict(tmp_path: Path) -> None:
    """The repository's own mkdocs.yml, pages and example challenges build with no warning."""
    root = tmp_path / "repo"
    for name in ("mkdocs.yml", "site", "challenges", "submissions", "results", "teams.yaml"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        elif src.exists():
            root.mkdir(exist_ok=True)
            shutil.copy(src, root / name)
    site = build_site(root, tmp_path / "out")
    assert (site / "index.html").exists() and (site / "cli.html").exists()


# ------------------------------------------------------------------ pure parts


def test_status_states_and_time_left(tmp_path: Path) -> None:
    from runner.loader import load_challenge

    root = make_repo(tmp_path)
    ch = load_challenge(root / "challenges/cells")
    at = datetime(2027, 2, 27, 9, 30, tzinfo=UTC)
    assert challenge_status(ch, at).text == "open (phase open): 1 day 14 hours left"
    assert challenge_status(ch, at - timedelta(days=60)).text.startswith("upcoming: phase open")
    assert challenge_status(ch, datetime(2027, 3, 7, 23, 50, tzinfo=UTC)).text == (
        "open (phase final): 10 minutes left"
    )
    assert challenge_status(ch, datetime(2027, 4, 1, tzinfo=UTC)).state == "closed"


def test_chart_helpers() -> None:
    day = datetime(2027, 1, 1, tzinfo=UTC)
    points = [(day, 0.5), (day + timedelta(hours=5), 0.7), (day + timedelta(days=2), 0.6)]
    assert best_per_day(points, True) == [(day, 0.7), (day + timedelta(days=2), 0.7)]
    assert best_per_day(points, False) == [(day, 0.5), (day + timedelta(days=2), 0.5)]
    assert nice_ticks(0.12, 0.97) == [0.2, 0.4, 0.6, 0.8]
    labels = [
        label for _, label in time_ticks(day.timestamp(), (day + timedelta(days=3)).timestamp())
    ]
    assert labels == ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"]
    svg = str(score_chart(points, metric="auc", higher_is_better=True, precision=2))
    assert svg.count('<circle class="cr-dot"') == 3  # a focusable dot per evaluation
    assert 'aria-label="auc of 3 scored evaluations over time (higher is better)"' in svg
    assert "No scored submissions yet" in score_chart(
        [], metric="x", higher_is_better=True, precision=1
    )


def test_phases_started_come_first_latest_first_then_upcoming():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from runner.site.pages import _phase_order

    def boards(name, start):
        return SimpleNamespace(phase=SimpleNamespace(id=name, start=datetime(*start, tzinfo=UTC)))

    phases = [boards("warmup", (2026, 1, 1)), boards("open", (2026, 2, 1)),
              boards("final", (2026, 6, 1)), boards("bonus", (2026, 7, 1))]  # fmt: skip
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert [b.phase.id for b in _phase_order(phases, now)] == ["open", "warmup", "final", "bonus"]


def test_submission_page_gives_the_real_reveal_time(tmp_path):
    """Open-phase private scores wait for the final (private) phase's reveal, not open's end."""
    from runner.evaluation import Options, evaluate
    from runner.loader import load_repo

    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for name in ("site", "challenges"):
        shutil.copytree(REPO / name, root / name)
    shutil.copytree(
        REPO / "submissions/breast-cancer/octocat", root / "submissions/breast-cancer/octocat"
    )
    repo = load_repo(root)
    options = Options(results_dir=root / "results", cache_dir=tmp_path / "cache",
                      now=datetime(2026, 11, 22, 12, tzinfo=UTC))  # fmt: skip
    evaluate(repo.challenges["breast-cancer"], repo.submissions[0], options)
    site = build_site(root, tmp_path / "out")
    page = (site / "challenges/breast-cancer/submissions/octocat/logreg.html").read_text()
    assert "shown once the phase reveals them (2027-03-08 00:00 UTC)" in page


def test_open_ended_and_unlisted_phases(tmp_path) -> None:
    root = make_repo(tmp_path / "repo")
    config = root / "challenges/later/challenge.yaml"
    config.write_text(
        config.read_text().replace(
            "  - {id: main, start: 2028-01-01T00:00:00Z, end: 2028-02-01T00:00:00Z}\n",
            "  - {id: main, start: 2028-01-01T00:00:00Z, end: 2028-02-01T00:00:00Z}\n"
            "  - {id: backstage, start: 2028-02-01T00:00:00Z, end: 2028-03-01T00:00:00Z,"
            " listed: false}\n"
            "  - {id: forever, start: 2028-03-01T00:00:00Z}\n",
        )
    )
    site = build(root, "2028-04-01T00:00:00Z")
    page = (site / "challenges/later/index.html").read_text()
    assert "backstage" not in page  # unlisted: neither rules nor boards show it
    assert "<code>forever</code>" in page or "forever" in text_of(page)
    assert "never (open-ended)" in text_of(page)
    home = text_of((site / "index.html").read_text())
    assert "open (phase forever): no end date" in home


def test_a_metric_label_heads_its_board_column(tmp_path) -> None:
    root = make_repo(tmp_path / "repo")
    config = root / "challenges/cells/challenge.yaml"
    text = config.read_text()
    assert "{name: log_loss, column: malignant" in text
    config.write_text(
        text.replace(
            "{name: log_loss, column: malignant",
            "{name: log_loss, label: Total loss, column: malignant",
        )
    )
    page = (build(root, NOW) / "challenges/cells/index.html").read_text()
    assert 'is better">Total loss ↓</button></th>' in page


def test_a_baseline_marked_after_its_first_evaluation_is_listed_once(tmp_path: Path) -> None:
    """maint/baseline was evaluated once before `baseline: true`: one baseline row on the
    board, no rank, and maint is not counted as a participant on the home page."""
    from dataclasses import replace as with_

    from site_repo import Eval, result

    from runner.records import write_result

    root = make_repo(tmp_path / "repo")
    early = result(Eval("maint", "baseline", 0, 0.89, 0.33), 20)
    write_result(root / "results", with_(early, baseline=False))
    site = build(root, NOW)
    page = (site / "challenges/cells/index.html").read_text()
    rows = board_rows(page, "Ranking (public split)")
    assert [r[:3] for r in rows] == [
        ["1", "carol", "xss"],
        ["2", "red-team ( alice )", "gbm"],
        ["—", "maint baseline", "baseline"],
        ["3", "bob", "forest"],
    ]
    home = (site / "index.html").read_text()
    home_rows = board_rows(home.replace("<thead>", "<caption>home</caption><thead>", 1), "home")
    assert home_rows[0][2] == "3"
    badge = json.loads((site / "challenges/cells/badges/leader.json").read_text())
    assert badge["message"] == "leader bob (roc_auc 0.9700)"
    assert not (site / "challenges/cells/badges/entrants/maint.json").exists()


def test_challenge_page_links_the_repository_in_github_actions(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    env = {"GITHUB_REPOSITORY": "org/challenges", "GITHUB_SERVER_URL": "https://github.com"}
    with mock.patch.dict(os.environ, env):
        site = build(root, NOW)
    page = (site / "challenges/cells/index.html").read_text()
    assert (
        '<p class="cr-actions"><a class="md-button md-button--primary" '
        'href="../../how-to-submit.html">How to submit</a> <a class="md-button" '
        'href="https://github.com/org/challenges/tree/HEAD/challenges/cells">Challenge files</a> '
        '<a href="https://github.com/org/challenges" rel="noopener">Repository</a></p>'
    ) in page
