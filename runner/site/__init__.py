"""The static leaderboard site: MkDocs (Material) pages generated from the repository.

``build_site`` is what ``challenge-runner run`` and ``challenge-runner site build`` call; the
pages come from the MkDocs plugin ``challenge-runner`` (``runner.site.plugin``, which
``mkdocs.yml`` lists under ``plugins:``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runner.errors import RunnerError

__all__ = ["SiteError", "build_site"]


class SiteError(RunnerError):
    """The site cannot be built; the message lists MkDocs' errors and warnings."""


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _collected() -> Iterator[_Collect]:
    handler = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def build_site(root: Path, output: Path, *, strict: bool = True) -> Path:
    """Build the site of the repository at ``root`` into ``output`` with ``root/mkdocs.yml``.

    Runs a real ``mkdocs build`` in this process. In strict mode (what CI uses) any warning,
    e.g. a record that cannot be read or a broken link in a README, fails the build.
    Returns ``output``; raises ``SiteError`` naming every problem on failure.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config_file = root / "mkdocs.yml"
    if not config_file.is_file():
        raise SiteError(
            "no mkdocs.yml here; copy the one from the challenge-runner repository "
            "(it lists the challenge-runner plugin)",
            path=str(config_file),
        )
    from runner.site.config import check_config

    refused = check_config(config_file)
    if refused:
        raise SiteError(
            "mkdocs.yml asks MkDocs to run code, which the site build refuses:\n"
            + "\n".join(f"  - {problem}" for problem in refused),
            path=str(config_file),
        )
    with _collected() as seen:
        try:
            config = load_config(str(config_file), site_dir=str(output.resolve()), strict=strict)
            build(config)
        except MkDocsException as err:
            raise SiteError(_failure(str(err), seen.messages), path=str(config_file)) from err
    return output


def _failure(error: str, warnings: list[str]) -> str:
    lines = [f"the site was not built: {error}"]
    lines += [f"  - {message}" for message in warnings]
    if warnings:
        lines.append(
            "Fix the files named above (or build without --strict to see the site anyway)."
        )
    return "\n".join(lines)
