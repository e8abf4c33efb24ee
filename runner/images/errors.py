"""The participant's two ways to get an image wrong."""

from __future__ import annotations

from runner.errors import RunnerError

__all__ = ["BuildFailed", "ImageRejected"]


class BuildFailed(RunnerError):
    """The submission's Dockerfile did not build: the participant's fault (status "failed")."""


class ImageRejected(RunnerError):
    """The image breaks a sandbox rule (VOLUMEs, size, a remote source or base): the
    participant's fault ("invalid")."""
