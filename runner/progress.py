"""The one progress callback type: a step reports what it is doing as a line of text."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def say(progress: Progress | None, message: str) -> None:
    """Report ``message`` when someone listens."""
    if progress is not None:
        progress(message)
