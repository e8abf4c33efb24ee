"""Submission manifests -> Submission: schema, folder, identity, paths, kind."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner import models
from runner.loader.paths import resolve_inside
from runner.loader.problems import Collector
from runner.schemas import validator
from runner.yamlsafe import Document

PINNED = re.compile(r"^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$")
_KINDS = ("predictions", "image", "build", "code")
# The family a challenge lists in submission_kinds for each kind of manifest.
_FAMILY = {"predictions": "predictions", "image": "container", "build": "container", "code": "code"}


def check_submission_doc(
    path: Path,
    root: Path,
    raw: bytes,
    doc: Document,
    out: Collector,
    challenges: dict[str, models.Challenge] | None,
    teams: dict[str, models.Team],
) -> models.Submission | None:
    """Schema-check a manifest, then every rule the schema cannot express."""
    if not out.check_schema(validator("submission")):
        return None
    data = doc.data
    _check_location(path, root, data, out)
    _check_identity(data, teams, out)
    kinds = [k for k in _KINDS if k in data]
    if not kinds:
        out.add(
            (),
            "give one of predictions (a CSV file), image (pinned by digest), build or code",
        )
    elif len(kinds) > 1:
        out.add(
            (kinds[1],),
            f"give only one of predictions, image, build or code (found {' and '.join(kinds)})",
        )
    if "command" in data and kinds and kinds[0] in ("predictions", "code"):
        out.add(
            ("command",),
            f"command: is for container submissions (image or build); remove it from a "
            f"{kinds[0]} submission",
        )
    if challenges is not None:
        _check_against_challenge(data, kinds, challenges, out)
    folder = path.parent
    predictions = _path_field(folder, data, ("predictions",), "file", out)
    build = _build(folder, data, out)
    code = _code(folder, data, out)
    if "image" in data and not PINNED.match(data["image"]):
        out.add(
            ("image",),
            f"image {data['image']!r} is not pinned by digest; use name@sha256:<64 hex> "
            "(docker inspect --format '{{index .RepoDigests 0}}' IMAGE prints it)",
        )
    return models.Submission(
        challenge=data["challenge"],
        participant=data["participant"],
        name=data["name"],
        path=path,
        description=data.get("description", ""),
        team=data.get("team"),
        links=tuple(sorted(data.get("links", {}).items())),
        predictions=predictions,
        image=data.get("image"),
        build=build,
        code=code,
        command=tuple(data["command"]) if "command" in data else None,
        baseline=data.get("baseline", False),
        selected=data.get("selected", False),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _check_location(path: Path, root: Path, data: dict[str, Any], out: Collector) -> None:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = ()
    owner = data.get("team") or data["participant"]
    expected = f"submissions/{data['challenge']}/{owner}/{data['name']}.yaml"
    if len(parts) != 4 or parts[0] != "submissions":
        out.add(
            (),
            "a manifest must live at submissions/<challenge>/<login-or-team>/<name>.yaml; "
            f"move it to {expected}",
        )
        return
    if parts[1] != data["challenge"]:
        out.add(
            ("challenge",),
            f"challenge {data['challenge']!r} does not match the folder {parts[1]!r}; "
            f"move the file to {expected}",
        )
    if parts[2] != owner:
        who = "team" if data.get("team") else "participant"
        out.add(
            (who,),
            f"{who} {owner!r} does not match the folder {parts[2]!r}; move the file to {expected}",
        )
    if Path(parts[3]).stem != data["name"] or not parts[3].endswith(".yaml"):
        out.add(
            ("name",),
            f"name {data['name']!r} must equal the file name; "
            f"rename the file to {data['name']}.yaml or fix name",
        )


def _check_identity(data: dict[str, Any], teams: dict[str, models.Team], out: Collector) -> None:
    team = data.get("team")
    if team is None:
        return
    if team not in teams:
        out.add(
            ("team",),
            f"team {team!r} is not in teams.yaml; add it there first (a maintainer merges that)",
        )
    elif not teams[team].has(data["participant"]):
        out.add(
            ("team",), f"{data['participant']!r} is not a member of team {team!r} in teams.yaml"
        )


def _check_against_challenge(
    data: dict[str, Any],
    kinds: list[str],
    challenges: Mapping[str, models.Challenge],
    out: Collector,
) -> None:
    challenge = challenges.get(data["challenge"])
    if challenge is None:
        known = ", ".join(sorted(challenges)) or "none"
        out.add(("challenge",), f"no challenge {data['challenge']!r} (known: {known})")
        return
    allowed = challenge.submission_kinds
    for kind in kinds:
        family = _FAMILY[kind]
        if family not in allowed:
            out.add(
                (kind,),
                f"challenge {challenge.id!r} does not accept {family} submissions "
                f"(it accepts {', '.join(allowed)})",
            )
    if data.get("selected") and not any(p.selection for p in challenge.phases):
        out.add(
            ("selected",),
            f"challenge {challenge.id!r} has no phase with `selection:`, so every submission "
            "counts; remove selected",
        )
    if data.get("baseline") and data["participant"] not in challenge.maintainers:
        out.add(("baseline",), "only the challenge's maintainers may mark a submission as baseline")


def _path_field(folder: Path, data: Any, where: tuple, want: str, out: Collector) -> Path | None:
    value: Any = data
    for key in where:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    path, problem = resolve_inside(folder, value, want=want)
    if problem:
        out.add(where, problem)
    return path


def _code(folder: Path, data: dict[str, Any], out: Collector) -> Path | None:
    """A code submission: a folder, or a .zip file, beside the manifest."""
    if "code" not in data:
        return None
    path, problem = resolve_inside(folder, data["code"], want="any")
    if problem:
        out.add(("code",), problem)
    elif path is not None and not (path.is_dir() or (path.is_file() and path.suffix == ".zip")):
        out.add(("code",), f"{data['code']!r} must be a folder or a .zip file of your code")
        return None
    return path


def _build(folder: Path, data: dict[str, Any], out: Collector) -> models.BuildSpec | None:
    if "build" not in data:
        return None
    context = _path_field(folder, data, ("build", "context"), "dir", out)
    dockerfile = data["build"].get("dockerfile", "Dockerfile")
    if context is not None:
        _, problem = resolve_inside(context, dockerfile, want="file")
        if problem:
            out.add(("build", "dockerfile"), problem)
    return models.BuildSpec(context=context or folder, dockerfile=dockerfile)


def build_teams(doc: Document, out: Collector) -> dict[str, models.Team]:
    if not out.check_schema(validator("teams")):
        return {}
    teams = {}
    for name, item in doc.data["teams"].items():
        members = tuple(models.TeamMember(m["login"], m.get("id")) for m in item["members"])
        teams[name] = models.Team(name, members)
    return teams
