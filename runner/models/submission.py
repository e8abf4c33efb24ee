"""A submission (a manifest under ``submissions/``) and the teams of ``teams.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SubmissionKind = Literal["predictions", "image", "build", "code"]


@dataclass(frozen=True)
class BuildSpec:
    context: Path  # absolute, inside the submission folder
    dockerfile: str = "Dockerfile"


@dataclass(frozen=True)
class Submission:
    challenge: str
    participant: str  # GitHub login of the author
    name: str  # == manifest file stem
    path: Path  # the manifest
    description: str = ""
    team: str | None = None
    links: tuple[tuple[str, str], ...] = ()
    predictions: Path | None = None  # absolute, inside the manifest's folder
    image: str | None = None  # pinned: name@sha256:<64 hex>
    build: BuildSpec | None = None
    code: Path | None = None  # a folder or .zip of code run by the challenge's ingestion program
    command: tuple[str, ...] | None = None
    baseline: bool = False  # maintainers' reference submission: shown, never ranked
    selected: bool = False  # counts in a phase with `selection:` (else the latest ones do)
    sha256: str = ""  # of the manifest bytes

    @property
    def kind(self) -> SubmissionKind:
        if self.predictions is not None:
            return "predictions"
        if self.code is not None:
            return "code"
        return "image" if self.image is not None else "build"

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def entrant(self) -> str:
        """Who ranks on the board: the team if there is one, else the participant."""
        return self.team or self.participant


@dataclass(frozen=True)
class TeamMember:
    login: str
    id: int | None = None  # numeric GitHub user id: survives renames


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[TeamMember, ...]

    def has(self, login: str, user_id: int | None = None) -> bool:
        """Membership by user id when both sides know it (renames cannot spoof), else login."""
        for member in self.members:
            if user_id is not None and member.id is not None:
                if member.id == user_id:
                    return True
            elif member.login.lower() == login.lower():
                return True
        return False
