"""Submission images: resolve (pull a pinned ``image:`` or build a ``build:``), check, save
and load across CI jobs, and release. See ``runner.images.resolve`` for the rules."""

from runner.images.bases import BUILD_LABEL, BUILD_REPO, STANDS_FOR
from runner.images.build import BUILD_ID
from runner.images.errors import BuildFailed, ImageRejected
from runner.images.resolve import ImageRef, load_image, release_image, resolve_image, save_image
from runner.sandbox.spec import parse_size

__all__ = [
    "BUILD_ID",
    "BUILD_LABEL",
    "BUILD_REPO",
    "STANDS_FOR",
    "BuildFailed",
    "ImageRef",
    "ImageRejected",
    "load_image",
    "parse_size",
    "release_image",
    "resolve_image",
    "save_image",
]
