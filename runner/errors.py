"""The errors a user can fix.

Every ``RunnerError`` is something a maintainer or participant can act on: its message says
what is wrong and how to fix it. Anything that is not a ``RunnerError`` is a bug in the
runner; the CLI's handler prints a short note and saves the traceback (exit 3).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USER = 1
EXIT_INTERNAL = 3


class RunnerError(Exception):
    """A problem the user can fix. ``str(err)`` is the message shown to them."""

    exit_code = EXIT_USER

    def __init__(self, message: str, *, path: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        # Maintainer-only detail (e.g. container output); never shown to participants.
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(RunnerError):
    """A challenge, manifest or teams file is invalid."""


class DataError(RunnerError):
    """Hidden or public data cannot be obtained, verified or unpacked."""


class SandboxError(RunnerError):
    """The container engine cannot run a submission safely (the platform's fault)."""


class PredictionsError(RunnerError):
    """A predictions file breaks the challenge's format; the message is participant-safe."""


class RecordError(RunnerError):
    """A result record cannot be read or written."""


class GitHubError(RunnerError):
    """The GitHub API refused or failed a request, or the event is not usable."""
