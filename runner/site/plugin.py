"""The MkDocs plugin ``challenge-runner``: ``plugins: [search, challenge-runner]``.

Registered as an entry point (``mkdocs.plugins``), so any repository with the runner
installed can use it — no file path into the package is needed. The work is in
``runner.site.hooks.SiteHooks``.
"""

from __future__ import annotations

from mkdocs.plugins import BasePlugin

from runner.site.hooks import SiteHooks


class ChallengeRunnerPlugin(BasePlugin):
    """Generates the home, challenge and submission pages, downloads and badges."""

    def __init__(self) -> None:
        self._hooks = SiteHooks()

    def on_config(self, config):
        self._hooks = SiteHooks()  # a fresh state per build (mkdocs serve rebuilds)
        return self._hooks.on_config(config)

    def on_files(self, files, *, config):
        return self._hooks.on_files(files, config)

    def on_page_content(self, html, *, page, config, files):
        return self._hooks.on_page_content(html, page)

    def on_post_page(self, output, *, page, config):
        return self._hooks.on_post_page(output, page, config)

    def on_post_build(self, *, config):
        return self._hooks.on_post_build(config)
