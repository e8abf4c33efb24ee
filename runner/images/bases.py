"""Resolve each ``FROM`` of a participant's Dockerfile to a local image ID, here, not in the
daemon (see ``runner.images.policy`` for why).

A base is one of the challenge's ``container.base_images`` (digest-pinned references the
maintainers allowed: used if present, else pulled by the runner, which is the only time a
registry is contacted) or, when the challenge lists none, an image already present on the
evaluation machine. Never another submission's build. The ONBUILD triggers a base carries
run in the participant's build, so they pass the same policy.

Offline machines (tests, air-gapped hosts) cannot pull a pinned base: a local image tagged
with the reference's name and tag and labelled ``org.challenge-runner.stands-for=<the
pinned reference>`` stands in for it (``scripts/build-test-images.sh`` makes one). Only a
maintainer can make it: builds are tagged ``challenge-runner/build:*`` and refused as bases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker.errors

from runner.errors import SandboxError
from runner.images.dockerfile import parse
from runner.images.policy import Refused, Stage, step
from runner.sandbox.engine import ENGINE_ERRORS

__all__ = ["STANDS_FOR", "resolve_bases"]

STANDS_FOR = "org.challenge-runner.stands-for"
BUILD_REPO = "challenge-runner/build"
BUILD_LABEL = "org.challenge-runner.submission"


def resolve_bases(
    client: Any,
    stages: list[Stage],
    allowed: tuple[str, ...],
    pull: Callable[[str], Any],
    where: str = "Dockerfile",
) -> dict[int, str]:
    """{FROM line: image ID} for every stage built on an image; raise ``Refused`` or
    ``SandboxError`` (engine or registry trouble). ``pull(ref)`` fetches an allowed base."""
    resolved: dict[int, str] = {}
    for stage in stages:
        if stage.image is None:
            continue
        image = _base(client, stage, allowed, pull, where)
        for number, trigger in enumerate((image.attrs.get("Config") or {}).get("OnBuild") or []):
            _trigger(trigger, stages, where, stage.line, number)
        resolved[stage.line] = image.id
    return resolved


def _base(
    client: Any, stage: Stage, allowed: tuple[str, ...], pull: Callable[[str], Any], where: str
) -> Any:
    ref = stage.image or ""
    if allowed and ref not in allowed:
        listed = ", ".join(allowed)
        raise Refused(where, stage.line, f"FROM {ref[:200]}: use one of the challenge's base "
                      f"images ({listed})")  # fmt: skip
    image = _local(client, ref) or (_stand_in(client, ref) if allowed else None)
    if image is None and allowed:
        image = pull(ref)
    if image is None:
        raise Refused(
            where, stage.line, f"FROM {ref[:200]}: no such image on the evaluation machine "
            "(nothing is pulled); use a base image the challenge names",
        )  # fmt: skip
    if _is_build(image):
        raise Refused(where, stage.line, f"FROM {ref[:200]}: another submission's image")
    return image


def _local(client: Any, ref: str) -> Any:
    try:
        return client.images.get(ref)
    except (docker.errors.ImageNotFound, docker.errors.NullResource):
        return None
    except docker.errors.APIError as err:
        if err.status_code in (400, 404):  # malformed reference: no such local image
            return None
        raise SandboxError(
            "the container engine failed to look up an image", detail=str(err)
        ) from err
    except ENGINE_ERRORS as err:
        raise SandboxError(
            "the container engine failed to look up an image", detail=str(err)
        ) from err


def _stand_in(client: Any, ref: str) -> Any:
    name = ref.split("@", 1)[0]
    image = _local(client, name) if "@" in ref and ":" in name.rsplit("/", 1)[-1] else None
    if image is not None and (image.labels or {}).get(STANDS_FOR) == ref:
        return image
    return None


def _is_build(image: Any) -> bool:
    tags = image.tags or []
    return BUILD_LABEL in (image.labels or {}) or any(t.startswith(BUILD_REPO) for t in tags)


def _trigger(trigger: str, stages: list[Stage], where: str, line: int, number: int) -> None:
    escape, inner = parse(str(trigger))
    try:
        for ins in inner:
            step(ins, escape, stages, where)
    except Refused as err:
        reason = err.message.split(": ", 1)[1]
        raise Refused(
            where, line, f"the base image's ONBUILD trigger {number + 1}: {reason}"
        ) from err
