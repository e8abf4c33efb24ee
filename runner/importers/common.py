"""What every importer shares: the draft of a challenge folder, and writing it.

An importer reads a foreign bundle into a :class:`Draft` (plain data, plus the files to copy
and the notes on what could not be mapped); :func:`write_challenge` turns the draft into
``challenges/<id>/``: challenge.yaml, README.md, public/, the original scoring program, and
the hidden data (reference files and container inputs) packed with a fresh age key. The
challenge is then loaded with the ordinary loader, so an import that produced an invalid
challenge says so with the usual messages.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import yaml

from runner.errors import ConfigError, DataError

KEY_ENV = "CHALLENGE_KEY"
UNKNOWN_DATE = "2100-01-01T00:00:00Z"  # for a date that cannot be read (noted): never opens


@dataclass
class Draft:
    """A challenge being imported: challenge.yaml's data and the files that go with it."""

    id: str
    data: dict
    readme: list[tuple[str, str]] = field(default_factory=list)  # (heading, markdown/html)
    program_dir: Path | None = None  # copied to challenges/<id>/<program_name>/
    program_name: str = "scoring_program"
    ingestion_dir: Path | None = None  # copied to challenges/<id>/ingestion_program/
    computed: dict = field(default_factory=dict)  # codabench computed columns (program:)
    public: list[tuple[Path, str]] = field(default_factory=list)  # (source, path in public/)
    reference: list[tuple[Path, str]] = field(default_factory=list)  # (source, in reference/)
    inputs: list[tuple[Path, str]] = field(default_factory=list)  # (source, in inputs/)
    notes: list[str] = field(default_factory=list)  # what could not be mapped, and why

    def note(self, text: str) -> None:
        self.notes.append(text)


@dataclass(frozen=True)
class Imported:
    folder: Path
    identity: str  # the secret age identity: printed once, never written to the repository
    recipient: str
    key_env: str
    notes: tuple[str, ...]


def slug(text: str, limit: int = 63) -> str:
    """A lower-case id made of letters, digits and dashes (challenge and phase ids)."""
    value = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:limit].strip("-")
    return value or "challenge"


def metric_name(text: str) -> str:
    """A metric name (``^[a-z][a-z0-9_]*``) from a foreign label such as ``Metric 1``."""
    value = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")[:63]
    return value if value[:1].isalpha() else f"m_{value}"[:63]


def parse_date(value: object, where: str, draft: Draft) -> str | None:
    """RFC 3339 (UTC) from the date forms bundles use; None (with a note) when unreadable."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = str(value).strip()
    forms = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%m-%d-%Y", "%m/%d/%Y")
    for form in forms:
        try:
            moment = datetime.strptime(text, form).replace(tzinfo=UTC)
        except ValueError:
            continue
        return moment.isoformat().replace("+00:00", "Z")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        draft.note(f"{where}: date {text!r} is not in a known form; set it by hand")
        return None
    return parse_date(moment, where, draft)


def phase_limits(phase: dict) -> dict[str, int]:
    """Our ``limits:`` from a phase's ``max_submissions_per_day`` and ``max_submissions``
    (both platforms name them so); 0 per day closes the phase, 0 in total means no limit."""
    limits = {}
    if phase.get("max_submissions_per_day") is not None:
        limits["per_day"] = int(phase["max_submissions_per_day"])
    if phase.get("max_submissions"):
        limits["total"] = int(phase["max_submissions"])
    return limits


def close_open_phases(draft: Draft) -> None:
    """Only the last phase may never end here: an earlier one without an end ends when the
    next one starts (noted)."""
    phases = draft.data.get("phases", [])
    for phase, following in pairwise(phases):
        if "end" not in phase:
            phase["end"] = following["start"]
            draft.note(f"phase {phase['id']!r} has no end; it ends when {following['id']!r} starts")


def open_bundle(path: Path, marker: str, work: Path) -> Path:
    """The bundle's folder: ``path`` itself, or a zip unpacked into ``work``; the folder
    holding ``marker`` (the bundle's config file), which may sit one level down."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        from runner.program import unzip

        target = work / "bundle"
        target.mkdir()
        unzip(path, target)
        path = target
    if not path.is_dir():
        raise ConfigError(f"{path}: not a folder or a zip file; give the bundle's folder or zip")
    if (path / marker).is_file():
        return path
    inner = [child for child in path.iterdir() if (child / marker).is_file()]
    if len(inner) == 1:
        return inner[0]
    raise ConfigError(f"{path}: no {marker} found; is this the right kind of bundle?")


def read_yaml(path: Path) -> dict:
    """A foreign config file: plain YAML (these bundles use no anchors or tags)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot be read as YAML ({err})") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def page_text(path: Path) -> str:
    """A page for the README: Markdown as is; HTML kept as raw HTML (MkDocs shows it)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return text.strip() + "\n"


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:  # our loader refuses anchors and aliases
        return True


def write_challenge(
    draft: Draft, challenges: Path, keys: tuple[str, str], *, key_env: str = KEY_ENV
) -> Imported:
    """Write ``challenges/<id>/`` from ``draft``, its hidden data encrypted to ``keys``
    (identity, recipient); refuse to overwrite an existing folder."""
    folder = challenges / draft.id
    if folder.exists():
        raise ConfigError(f"{folder} already exists; remove it or import with another --id")
    identity, recipient = keys
    with tempfile.TemporaryDirectory(prefix="challenge-runner-import-") as tmp:
        staging = Path(tmp) / draft.id
        staging.mkdir()
        _write_files(draft, staging)
        sha256 = _pack_hidden(draft, Path(tmp), staging / "hidden.tar.age", recipient)
        hidden = {"source": "hidden.tar.age", "sha256": sha256, "key_env": key_env}
        draft.data["data"] = {**draft.data.get("data", {}), "hidden": hidden}
        draft.data["data"]["hidden"]["recipient"] = recipient
        text = yaml.dump(draft.data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True)
        (staging / "challenge.yaml").write_text(_header(draft) + text, encoding="utf-8")
        challenges.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), folder)
    return Imported(folder, identity, recipient, key_env, tuple(draft.notes))


def _header(draft: Draft) -> str:
    lines = ["# Imported by `challenge-runner import`; review before merging."]
    lines += [f"# NOT MAPPED: {note}" for note in draft.notes]
    return "\n".join(lines) + "\n"


def _write_files(draft: Draft, staging: Path) -> None:
    readme = [f"# {draft.data['title']}\n"]
    readme += [f"## {heading}\n\n{text}" for heading, text in draft.readme]
    (staging / "README.md").write_text("\n".join(readme), encoding="utf-8")
    if draft.program_dir is not None:
        _copy(draft.program_dir, staging / draft.program_name)
    if draft.ingestion_dir is not None:
        _copy(draft.ingestion_dir, staging / "ingestion_program")
    for source, rel in draft.public:
        _copy(source, staging / "public" / rel)


def _pack_hidden(draft: Draft, tmp: Path, output: Path, recipient: str) -> str:
    from runner import data as hidden_data

    plain = tmp / "hidden-plain"
    (plain / "inputs").mkdir(parents=True)
    (plain / "reference").mkdir()
    for source, rel in draft.inputs:
        _copy_data(source, plain / "inputs" / rel)
    for source, rel in draft.reference:
        _copy_data(source, plain / "reference" / rel)
    try:
        return hidden_data.pack(plain, [recipient], output)
    finally:
        shutil.rmtree(plain, ignore_errors=True)  # clear reference data never lingers


def _copy_data(source: Path, target: Path) -> None:
    """A data folder, or a zip of one (bundles may give either): unpacked safely, without
    the __MACOSX/ resource forks that zips made on a Mac carry."""
    if not (source.is_file() and zipfile.is_zipfile(source) and not source.is_symlink()):
        _copy(source, target)
        return
    from runner.program import unzip

    target.mkdir(parents=True, exist_ok=True)
    unzip(source, target)
    shutil.rmtree(target / "__MACOSX", ignore_errors=True)


def _copy(source: Path, target: Path) -> None:
    if source.is_symlink():
        raise DataError(f"{source} is a symbolic link; the importer copies files and folders only")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, target)
