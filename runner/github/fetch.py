"""Fetch a pull request's submission folders at the head SHA, as data, into a temp dir.

The files are read through the git tree and blob API (never a checkout of the PR), checked
against size and count caps *before* download (tree entries carry sizes), and written under
``dest/submissions/<challenge>/<folder>/`` exactly as in the repository, so
``runner.loader.load_submission(path, root=dest, ...)`` reads them like a local checkout.
Only regular files are written (mode 100644/100755, never executable): a symlink or
submodule anywhere in a fetched folder is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from runner.github.client import ChangedFile, GitHubClient
from runner.github.policy import (
    MODE_NAMES,
    Folder,
    HeadTree,
    PolicyViolation,
    Violation,
    split_path,
)

MANIFEST_SUFFIXES = (".yaml", ".yml")
MANIFEST_MAX_BYTES = 64 * 1024  # the loader's own YAML cap (DESIGN §2)


@dataclass(frozen=True)
class FetchLimits:
    max_file_bytes: int = 100 * 1024 * 1024  # GitHub's blob API limit
    max_total_bytes: int = 256 * 1024 * 1024
    max_files: int = 500


@dataclass(frozen=True)
class FetchedFile:
    path: str  # repo-relative
    sha: str
    size: int


def touched_folders(files: Iterable[ChangedFile]) -> list[Folder]:
    """The submission folders with added or changed files, in first-seen order."""
    seen: dict[Folder, None] = {}
    for change in files:
        if change.status != "removed" and (folder := split_path(change.filename)):
            seen.setdefault(folder, None)
    return list(seen)


def list_folder(tree: HeadTree, folder: Folder) -> list[FetchedFile]:
    """Every regular file under ``folder`` at the head; PolicyViolation for links/submodules."""
    out, bad, stack = [], [], [folder.path]
    while stack:
        directory = stack.pop()
        for name, entry in sorted((tree.entries(directory) or {}).items()):
            path = f"{directory}/{name}"
            if name in ("", ".", "..") or "/" in name or "\\" in name:
                # GitHub's fsck refuses such trees; do not rely on it when writing files.
                bad.append(Violation(path, "has a file name that is not allowed"))
            elif entry.mode in MODE_NAMES:
                bad.append(
                    Violation(
                        path,
                        f"is {MODE_NAMES[entry.mode]}; submissions may only contain regular files",
                    )
                )
            elif entry.type == "tree":
                stack.append(path)
            else:
                out.append(FetchedFile(path, entry.sha, entry.size or 0))
    if bad:
        raise PolicyViolation(bad)
    return out


def check_sizes(files: list[FetchedFile], limits: FetchLimits) -> None:
    """Refuse before downloading anything too big or too many."""
    bad = []
    for f in files:
        cap = MANIFEST_MAX_BYTES if f.path.endswith(MANIFEST_SUFFIXES) else limits.max_file_bytes
        if f.size > cap:
            bad.append(Violation(f.path, f"is {f.size:,} bytes; the limit is {cap:,}"))
    total = sum(f.size for f in files)
    if total > limits.max_total_bytes:
        bad.append(
            Violation(
                "(pull request)",
                f"submission files total {total:,} bytes; the limit is {limits.max_total_bytes:,}",
            )
        )
    if len(files) > limits.max_files:
        bad.append(
            Violation(
                "(pull request)", f"{len(files)} files to fetch; the limit is {limits.max_files}"
            )
        )
    if bad:
        raise PolicyViolation(bad)


def fetch_folders(
    client: GitHubClient,
    tree: HeadTree,
    folders: Iterable[Folder],
    dest: Path,
    limits: FetchLimits = FetchLimits(),
) -> list[Path]:
    """Write every file of ``folders`` at the head under ``dest``; return the written paths."""
    files = [f for folder in folders for f in list_folder(tree, folder)]
    check_sizes(files, limits)
    written = []
    for f in files:
        data = client.blob(f.sha)
        if len(data) != f.size:  # the tree said otherwise: never trust a surprise
            raise PolicyViolation(
                [Violation(f.path, "changed size while being fetched; push again")]
            )
        target = dest / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(0o644)
        written.append(target)
    return written


def manifests_to_evaluate(files: Iterable[ChangedFile], dest: Path) -> list[Path]:
    """Manifests this pull request asks to evaluate.

    In a folder where manifests changed, those manifests are evaluated. In a folder where
    only other files changed (say a new predictions file under the same name), every
    manifest directly in it is re-evaluated.
    """
    changed: dict[Folder, list[Path]] = {}
    for change in files:
        folder = split_path(change.filename) if change.status != "removed" else None
        if folder is None:
            continue
        found = changed.setdefault(folder, [])
        rel = change.filename[len(folder.path) + 1 :]
        if "/" not in rel and rel.endswith(MANIFEST_SUFFIXES):
            found.append(dest / change.filename)
    out = []
    for folder, manifests in changed.items():
        if not manifests:
            manifests = [
                p
                for p in sorted((dest / folder.path).glob("*"))
                if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            ]
        out += [m for m in manifests if m not in out]
    return out
