"""The MkDocs hook that turns ``challenges/`` and ``results/`` into leaderboard pages.

Loaded through the MkDocs plugin ``challenge-runner`` (``runner.site.plugin``). Events:

- ``on_config``: load the repository once for this build, add the site's CSS and JS;
- ``on_files``: add the home page, one page per challenge, the public data files, the
  assets and a hidden "shell" page (see ``runner.site.static``);
- ``on_page_content``: put each Jinja2-rendered fragment in place of its slot marker, in
  the page's HTML before the search plugin reads it (its ``on_page_context`` comes later),
  so a participant's history, the boards and the tables are searchable;
- ``on_post_page``: keep the rendered shell page for the submission pages;
- ``on_post_build``: write submission pages, leaderboard downloads and badges.

Environment: ``CHALLENGE_RUNNER_SITE_ROOT`` (repository root; default: the folder of
mkdocs.yml) and ``CHALLENGE_RUNNER_SITE_NOW`` (ISO time the site is built "at", for tests).
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel

from runner.site import pages, people, static
from runner.site.sources import SiteData, load_site_data
from runner.site.urls import SHELL_SRC, SHELL_URL

if TYPE_CHECKING:
    from runner.models import Challenge

log = logging.getLogger("mkdocs.plugins.challenge_runner")

ROOT_ENV = "CHALLENGE_RUNNER_SITE_ROOT"
NOW_ENV = "CHALLENGE_RUNNER_SITE_NOW"
ASSETS = ("site.css", "site.js")
HOW_TO_SUBMIT = "how-to-submit.md"  # linked by the "How to submit" button of challenge pages


def build_time() -> datetime:
    """Now, or the time in ``CHALLENGE_RUNNER_SITE_NOW`` (so tests see fixed statuses)."""
    value = os.environ.get(NOW_ENV)
    if not value:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise PluginError(f"{NOW_ENV}={value!r} is not an ISO 8601 time: {err}") from err
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class SiteHooks:
    """The state of one build (reset in ``on_config``: MkDocs keeps the hook module loaded)."""

    def __init__(self) -> None:
        self.site: SiteData | None = None
        self.slots: dict[str, dict[str, str]] = {}
        self.shell: static.Shell | None = None

    def on_config(self, config):
        if config.use_directory_urls:
            raise PluginError(
                "challenge-runner: set `use_directory_urls: false` in mkdocs.yml; submission "
                "pages are plain .html files and links must work without a web server."
            )
        root = Path(os.environ.get(ROOT_ENV) or Path(config.config_file_path).parent)
        if not config.repo_url and os.environ.get("GITHUB_REPOSITORY"):
            # In GitHub Actions the repository is known: link it (header and challenge pages).
            server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
            config.repo_url = f"{server}/{os.environ['GITHUB_REPOSITORY']}"
        self.site = replace(
            load_site_data(root, build_time()),
            repo_url=config.repo_url,
            site_url=config.site_url,
        )
        self.slots, self.shell = {}, None
        for problem in self.site.problems:
            log.warning("skipped: %s", problem)
        for name in ASSETS:
            target = config.extra_css if name.endswith(".css") else config.extra_javascript
            target.append(f"assets/challenge-runner/{name}")
        return config

    def on_files(self, files: Files, config: Any) -> Files:
        site = self._site()
        for name in ASSETS:
            source = resources.files("runner.site") / "assets" / name
            files.append(
                File.generated(
                    config, f"assets/challenge-runner/{name}", content=source.read_bytes()
                )
            )
        intro = files.get_file_from_path("index.md")
        if intro is not None:
            files.remove(intro)
        if files.get_file_from_path(HOW_TO_SUBMIT) is not None:
            site = self.site = replace(site, submit_page=HOW_TO_SUBMIT.replace(".md", ".html"))
        self._add(files, config, pages.home_page(site, intro.content_string if intro else ""))
        for data in site.challenges.values():
            published = self._add_public(files, config, data.challenge)
            self._add(files, config, pages.challenge_page(data, site, published))
        for page in people.people_pages(site):
            self._add(files, config, page)
        shell = File.generated(
            config, SHELL_SRC, content=static.shell_markdown(), inclusion=InclusionLevel.NOT_IN_NAV
        )
        files.append(shell)
        _add_to_nav(config, [pages.page_src(cid) for cid in site.challenges], site)
        return files

    def on_page_content(self, html: str, page: Any) -> str:
        for key, fragment in self.slots.get(page.file.src_uri, {}).items():
            marker = pages.slot(key)
            if marker not in html:
                raise PluginError(f"challenge-runner: slot {key!r} of {page.file.src_uri} is lost")
            html = html.replace(marker, fragment, 1)
        return html

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        if page.file.src_uri == SHELL_SRC:
            self.shell = static.Shell.from_html(output)
        return output

    def on_post_build(self, config: Any) -> None:
        site, site_dir = self._site(), Path(config.site_dir)
        if self.shell is None:
            raise PluginError("challenge-runner: the submission page shell was not rendered")
        shutil.rmtree(site_dir / "challenges" / "_shell", ignore_errors=True)
        _drop_from_sitemap(site_dir)
        for data in site.challenges.values():
            for rel, text in static.submission_pages(site, data, self.shell):
                static.write(site_dir, rel, text)
            for rel, text in static.downloads(data):
                static.write(site_dir, rel, text)
            for rel, text in static.badges(data, site.now):
                static.write(site_dir, rel, text)

    # -------------------------------------------------------------- helpers

    def _site(self) -> SiteData:
        if self.site is None:
            raise PluginError("challenge-runner: on_config did not run")
        return self.site

    def _add(self, files: Files, config: Any, page: pages.GeneratedPage) -> None:
        existing = files.get_file_from_path(page.src_uri)
        if existing is not None:
            raise PluginError(
                f"challenge-runner: {config.docs_dir}/{page.src_uri} would be replaced by a "
                "generated page; rename or remove it."
            )
        files.append(File.generated(config, page.src_uri, content=page.markdown))
        self.slots[page.src_uri] = page.slots

    def _add_public(self, files: Files, config: Any, challenge: Challenge) -> list[tuple[str, int]]:
        """Copy the public data files into the site; list (relative name, size)."""
        folder = challenge.public_dir
        if folder is None or not folder.is_dir():
            return []
        published = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink() or any(part.startswith(".") for part in rel.split("/")):
                log.info("not published (symlink or hidden file): %s", path)
                continue
            uri = f"challenges/{challenge.id}/public/{rel}"
            files.append(File.generated(config, uri, abs_src_path=str(path)))
            published.append((rel, path.stat().st_size))
        return published


def _add_to_nav(config: Any, challenge_pages: list[str], site: SiteData) -> None:
    """Put the challenge pages after the home entry of an explicit ``nav``."""
    if config.nav is None or not challenge_pages:
        return
    if any(isinstance(item, dict) and "Challenges" in item for item in config.nav):
        return
    titles = [site.challenges[p.split("/")[1]].challenge.title for p in challenge_pages]
    section = {"Challenges": [{t: p} for t, p in zip(titles, challenge_pages, strict=True)]}
    config.nav.insert(1 if config.nav else 0, section)
    config.nav.insert(2, {"Participants and teams": people.INDEX_SRC})


def _drop_from_sitemap(site_dir: Path) -> None:
    sitemap = site_dir / "sitemap.xml"
    if not sitemap.exists():
        return
    pattern = r"\s*<url>\s*<loc>[^<]*" + re.escape(SHELL_URL) + r"</loc>.*?</url>"
    text = re.sub(pattern, "", sitemap.read_text(encoding="utf-8"), flags=re.S)
    sitemap.write_text(text, encoding="utf-8")
    if (site_dir / "sitemap.xml.gz").exists():
        (site_dir / "sitemap.xml.gz").write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
