"""Path fields from files people control: relative, no '..', no symlinks, inside a folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def resolve_inside(base: Path, value: str, *, want: str = "file") -> tuple[Path | None, str]:
    """Resolve ``value`` under ``base``; return (path, "") or (None, what is wrong + fix).

    ``want`` is "file", "dir" or "any" (existence of any kind).
    """
    if not value or value.startswith(("/", "\\", "~")) or (len(value) > 1 and value[1] == ":"):
        return None, f"{value!r} must be a relative path inside {base.name}/"
    pure = PurePosixPath(value.replace("\\", "/"))
    if ".." in pure.parts:
        return None, f"{value!r} must not contain '..'; keep the file inside {base.name}/"
    current = base
    for part in pure.parts:
        current = current / part
        if current.is_symlink():
            return None, f"{value!r}: {part} is a symbolic link; commit the file itself"
    # No '..' and no symlinked component: the path cannot leave ``base``.
    if not current.exists():
        return None, f"{value!r} does not exist in {base.name}/; add it or fix the path"
    if want == "file" and not current.is_file():
        return None, f"{value!r} is not a regular file"
    if want == "dir" and not current.is_dir():
        return None, f"{value!r} is not a folder"
    return current, ""
