"""Offline stand-ins for actions/upload-artifact v4.6.2, download-artifact v4.3.0 and
deploy-pages v4.0.5, for running the workflows under act with no network.

The pinned snapshots of those actions lack their bundled ``dist/`` code, so these follow
their documented behaviour instead, where it can change a workflow's outcome:

- upload: ``path`` is newline-separated globs (``!`` excludes); files and directories whose
  name starts with ``.`` are skipped unless ``include-hidden-files: true``; the artifact's
  root is the one directory uploaded, the parent of the one file, or the common ancestor of
  several paths; a name already uploaded in this run fails with GitHub's 409 unless
  ``overwrite: true``; ``if-no-files-found`` is warn, error or ignore.
- download: ``name`` extracts that artifact into ``path`` (failing when absent); without a
  name every artifact whose name matches ``pattern`` goes to ``path/<name>/``, or all into
  ``path`` with ``merge-multiple: true``; no match is not an error.
- deploy-pages: unpacks the run's ``github-pages`` artifact (a tar) into the directory named
  by ``$ACT_PAGES_DIR`` and sets ``page_url``.

Artifacts live under ``$ACT_ARTIFACTS/<run id>/<name>/`` (file modes are not kept, as in a
zip); the tests read them there.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
import sys
import tarfile
from pathlib import Path

CONFLICT = (
    "Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: "
    "an artifact with this name already exists on the workflow run"
)


def _input(name: str, default: str = "") -> str:
    # The runner passes `with:` values as INPUT_<NAME> (upper case, spaces to underscores).
    return os.environ.get(f"INPUT_{name.upper().replace(' ', '_')}", default).strip() or default


def _flag(name: str) -> bool:
    return _input(name, "false").lower() == "true"


def _run_store() -> Path:
    return Path(os.environ["ACT_ARTIFACTS"]) / os.environ.get("GITHUB_RUN_ID", "1")


def _output(name: str, value: str) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"{name}={value}\n")


def _fail(message: str) -> None:
    print(f"::error::{message}")
    sys.exit(1)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _matches(patterns: list[str], workspace: Path) -> tuple[list[Path], list[Path]]:
    """Files matched by the include patterns, minus the excluded ones; and the search roots."""
    files: list[Path] = []
    roots: list[Path] = []
    excludes = [p[1:].strip() for p in patterns if p.startswith("!")]
    for pattern in (p for p in patterns if not p.startswith("!")):
        full = workspace / os.path.expanduser(pattern)
        magic = glob.has_magic(str(full))
        roots.append(Path(str(full).split("*")[0].split("?")[0].split("[")[0]))
        for hit in sorted(glob.glob(str(full), recursive=True)) if magic else [str(full)]:
            path = Path(hit)
            if path.is_dir():
                files.extend(p for p in sorted(path.rglob("*")) if p.is_file())
            elif path.is_file():
                files.append(path)
    for ex in excludes:
        files = [f for f in files if not fnmatch.fnmatch(str(f), str(workspace / ex))]
    return files, roots


def _root(files: list[Path], roots: list[Path]) -> Path:
    if len(roots) == 1:
        only = roots[0]
        return only if only.is_dir() else only.parent
    return Path(os.path.commonpath([str(r) for r in roots]))


def upload() -> None:
    name = _input("name", "artifact")
    workspace = Path(os.environ.get("GITHUB_WORKSPACE", "."))
    patterns = [p.strip() for p in _input("path").splitlines() if p.strip()]
    files, roots = _matches(patterns, workspace)
    root = _root(files, roots)
    if not _flag("include-hidden-files"):
        files = [f for f in files if not _hidden(f, root)]
    if not files:
        how = _input("if-no-files-found", "warn")
        message = (
            f"No files were found with the provided path: {_input('path')}. "
            "No artifacts will be uploaded."
        )
        if how == "error":
            _fail(message)
        if how == "warn":
            print(f"::warning::{message}")
        return
    target = _run_store() / name
    if target.exists():
        if not _flag("overwrite"):
            _fail(CONFLICT)
        shutil.rmtree(target)
    for f in files:
        dest = target / f.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest)  # follows symlinks; modes are not kept, as in a zip
    print(f"Artifact {name} has been successfully uploaded! ({len(files)} file(s))")
    _output("artifact-id", str(abs(hash(name)) % 10**9))


def _copy_tree(src: Path, dest: Path) -> None:
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        out = dest / f.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, out)


def download() -> None:
    store = _run_store()
    workspace = Path(os.environ.get("GITHUB_WORKSPACE", "."))
    path = workspace / os.path.expanduser(_input("path", str(workspace)))
    name = _input("name")
    if name:
        if not (store / name).is_dir():
            _fail(f"Unable to download artifact(s): Artifact not found for name: {name}")
        _copy_tree(store / name, path)
    else:
        pattern = _input("pattern")
        found = sorted(p.name for p in store.iterdir()) if store.is_dir() else []
        chosen = [n for n in found if not pattern or fnmatch.fnmatchcase(n, pattern)]
        print(f"Filtered from {len(found)} to {len(chosen)} artifacts")
        for each in chosen:
            _copy_tree(store / each, path if _flag("merge-multiple") else path / each)
    path.mkdir(parents=True, exist_ok=True)
    _output("download-path", str(path))


def deploy_pages() -> None:
    name = _input("artifact_name", "github-pages")
    archive = _run_store() / name / "artifact.tar"
    if not archive.is_file():
        _fail("No uploaded artifact was found! Please check if there are any errors at build step.")
    site = Path(os.environ["ACT_PAGES_DIR"])
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(site, filter="data")
    owner, _, repo = os.environ["GITHUB_REPOSITORY"].partition("/")
    _output("page_url", f"https://{owner}.github.io/{repo}/")


if __name__ == "__main__":
    {"upload": upload, "download": download, "deploy-pages": deploy_pages}[sys.argv[1]]()
