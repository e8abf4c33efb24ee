"""The hidden-data tree: its layout, its hash, packing it, and unpacking it safely.

Layout (DESIGN §4): ``inputs/`` (what the participant container sees as ``/input``) and
``truth.csv`` (what only the scorer reads), or, for a challenge scored by a program imported
from another platform, ``reference/`` (the program's reference data, one sub-folder per phase
or shared) instead of or beside ``truth.csv``. Nothing else.

Archive format written by ``pack``: a deterministic tar (sorted names, mtime 0, owner 0:0,
modes 0755/0644, no links) compressed with gzip (mtime 0, no file name), encrypted with age
to one or more recipients. ``extract`` also accepts an uncompressed tar.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from runner.data.crypto import encrypt_stream, parse_recipients
from runner.errors import DataError
from runner.progress import Progress

INPUTS = "inputs"
TRUTH = "truth.csv"
REFERENCE = "reference"
LAYOUT = (
    "the hidden data must hold inputs/ (a folder) and truth.csv (a file) or reference/ "
    "(a folder, for a scoring program), and nothing else"
)
MAX_FILES = 100_000
MAX_BYTES = 8 << 30  # 8 GiB
_CHUNK = 1 << 20


def check_layout(directory: Path) -> None:
    """Raise a DataError unless ``directory`` holds ``inputs/`` and ``truth.csv`` or
    ``reference/``."""
    inputs = directory / INPUTS
    if not directory.is_dir():
        raise DataError(f"not a directory; {LAYOUT}", path=str(directory))
    if inputs.is_symlink() or not inputs.is_dir():
        raise DataError(f"{INPUTS}/ is missing or not a folder; {LAYOUT}", path=str(directory))
    if not has_truth(directory):
        raise DataError(
            f"{TRUTH} (a file) or {REFERENCE}/ (a folder) is missing; {LAYOUT}",
            path=str(directory),
        )


def has_truth(directory: Path) -> bool:
    """True when ``directory`` holds what a scorer reads: truth.csv or reference/."""
    truth, reference = directory / TRUTH, directory / REFERENCE
    return (not truth.is_symlink() and truth.is_file()) or (
        not reference.is_symlink() and reference.is_dir()
    )


def walk_tree(root: Path) -> list[tuple[str, Path, bool]]:
    """Every entry under ``root`` as ``(relative posix path, path, is_dir)``, sorted by path.

    Links and special files are refused: they would point the sandbox or the scorer at
    something outside the data.
    """

    def fail(err: OSError) -> None:
        raise DataError(f"cannot read the data folder: {err}", path=str(root)) from err

    entries = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        for name in dirnames + filenames:
            full = Path(dirpath, name)
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise DataError(
                    "is a symbolic link; only regular files and folders are allowed here: "
                    "replace it with a copy of its target",
                    path=str(full),
                )
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise DataError(
                    "is a device, FIFO or socket; only regular files and folders are allowed "
                    "here: remove it",
                    path=str(full),
                )
            entries.append((full.relative_to(root).as_posix(), full, stat.S_ISDIR(mode)))
    return sorted(entries)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(path: Path) -> str:
    """A stable sha256 of a folder: its sorted relative paths, folder entries and file contents.

    Independent of timestamps, owners and modes, so the same data hashes the same on every
    machine. Used as ``data_sha256`` in result provenance for directory sources.
    """
    if not path.is_dir():
        raise DataError("not a directory, cannot hash it as a data folder", path=str(path))
    digest = hashlib.sha256()
    for rel, full, is_dir in walk_tree(path):
        if is_dir:
            digest.update(b"d\0" + rel.encode("utf-8") + b"\0")
        else:
            digest.update(b"f\0" + rel.encode("utf-8") + b"\0")
            digest.update(bytes.fromhex(file_sha256(full)))
    return digest.hexdigest()


def pack(
    directory: Path,
    recipients: Sequence[str],
    output: Path,
    *,
    progress: Progress | None = None,
) -> str:
    """Tar, gzip and age-encrypt ``directory`` to ``recipients`` into ``output``.

    ``directory`` must follow the layout (``LAYOUT``). The plaintext tar lives
    only in a private temporary folder (never beside ``output``, which is usually in the
    repository); ``output`` is replaced atomically. Returns the sha256 of the written file,
    which goes into ``data.hidden.sha256`` of challenge.yaml.
    """
    say = progress or (lambda _message: None)
    directory, output = Path(directory), Path(output)
    check_layout(directory)
    parsed = parse_recipients(recipients)
    entries = _packable(directory)
    files = [full for _, full, is_dir in entries if not is_dir]
    size = sum(full.stat().st_size for full in files)
    say(f"packing {len(files)} files ({_human(size)}) from {directory}")
    if not output.parent.is_dir():
        raise DataError("the output's folder does not exist; create it first", path=str(output))
    with tempfile.TemporaryDirectory(prefix="challenge-runner-pack-") as private:
        plain = Path(private, "hidden.tar.gz")
        _write_tar(entries, plain)
        compressed = _human(plain.stat().st_size)
        say(f"compressed to {compressed}; encrypting to {len(parsed)} recipient(s)")
        sha256 = _encrypt_atomically(plain, parsed, output)
    say(f"wrote {output} ({_human(output.stat().st_size)})")
    return sha256


def _packable(directory: Path) -> list[tuple[str, Path, bool]]:
    entries = walk_tree(directory)
    extra = sorted({rel.split("/")[0] for rel, _, _ in entries} - {INPUTS, TRUTH, REFERENCE})
    if extra:
        raise DataError(
            f"{', '.join(extra)} found besides inputs/, truth.csv and reference/; {LAYOUT}: "
            "move the rest "
            "out of the folder",
            path=str(directory),
        )
    return entries


def _write_tar(entries: list[tuple[str, Path, bool]], target: Path) -> None:
    # gzip's header would otherwise record the time and the temp file's name.
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as packed,
        tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel, full, is_dir in entries:
            info = tarfile.TarInfo(rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if is_dir:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
                continue
            with full.open("rb") as handle:
                info.size, info.mode = os.fstat(handle.fileno()).st_size, 0o644
                tar.addfile(info, handle)


def _encrypt_atomically(plain: Path, recipients: list, output: Path) -> str:
    fd, partial = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent)
    try:
        with plain.open("rb") as reader, os.fdopen(fd, "wb") as writer:
            sha256 = encrypt_stream(reader, writer, recipients)
            writer.flush()
            os.fsync(writer.fileno())
        os.chmod(partial, 0o644)  # ciphertext: safe to publish, like any repository file
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return sha256


def extract(
    archive: Path, target: Path, *, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES
) -> None:
    """Unpack a (gzipped) tar into the new folder ``target``, refusing anything unsafe.

    Only regular files and folders under ``inputs/`` and ``reference/`` plus the file
    ``truth.csv`` are accepted; links, devices, FIFOs, absolute paths, ``..``, more than
    ``max_files`` members or more than ``max_bytes`` in total are refused before anything of
    that member is written. Inputs get modes 0755/0644 (the container's unprivileged user
    reads them); ``truth.csv`` and all of ``reference/`` get 0600/0700 (the scorer's alone).
    """
    target.mkdir(mode=0o700)
    counted, total = 0, 0
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                rel = _member_path(member)
                counted, total = counted + 1, total + member.size
                _check_caps(member, counted, total, max_files, max_bytes)
                _write_member(tar, member, rel, target)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DataError(
            f"the archive is damaged or truncated ({err}); pack it again", path=str(archive)
        ) from err
    check_layout(target)


def _member_path(member: tarfile.TarInfo) -> str:
    name = member.name
    kind = _unsafe_kind(member)
    if kind:
        raise DataError(f"archive member {name!r} is a {kind}; only files and folders are allowed")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"archive member {name!r} has an absolute path; paths must be relative")
    parts = [part for part in PurePosixPath(name).parts if part not in ("", ".")]
    if ".." in parts or "\\" in name:
        raise DataError(f"archive member {name!r} leaves the archive folder ('..' or '\\')")
    rel = "/".join(parts)
    folders = (INPUTS, REFERENCE)
    if not (rel in (*folders, TRUTH) or rel.startswith(tuple(f + "/" for f in folders))):
        raise DataError(f"unexpected archive member {name!r}: {LAYOUT}")
    if rel in (*folders, TRUTH) and member.isdir() != (rel in folders):
        raise DataError(f"archive member {name!r} has the wrong type: {LAYOUT}")
    return rel


def _unsafe_kind(member: tarfile.TarInfo) -> str | None:
    if member.isreg() or member.isdir():
        return None
    kinds = [
        (member.issym(), "symbolic link"),
        (member.islnk(), "hard link"),
        (member.ischr() or member.isblk(), "device file"),
        (member.isfifo(), "FIFO"),
    ]
    return next((kind for matched, kind in kinds if matched), f"entry of tar type {member.type!r}")


def _check_caps(
    member: tarfile.TarInfo, counted: int, total: int, max_files: int, max_bytes: int
) -> None:
    if counted > max_files:
        raise DataError(
            f"archive member {member.name!r} is past the limit of {max_files} files; "
            "bundle small files (e.g. into one CSV or Parquet file)"
        )
    if total > max_bytes:
        raise DataError(
            f"archive member {member.name!r} takes the data past the limit of "
            f"{_human(max_bytes)} unpacked; make the hidden data smaller"
        )


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, rel: str, target: Path) -> None:
    path = target / rel
    try:
        if member.isdir():
            _make_dirs(target, path)
            return
        _make_dirs(target, path.parent)
        source = tar.extractfile(member)
        assert source is not None  # regular files always have a data stream
        # "x": a duplicate member must not silently replace the first one.
        with source, path.open("xb") as sink:
            shutil.copyfileobj(source, sink, _CHUNK)
        path.chmod(0o600 if _private(rel) else 0o644)
    except OSError as err:
        raise DataError(f"cannot extract archive member {member.name!r}: {err}") from err


def _private(rel: str) -> bool:
    """Truth and reference data are the scorer's alone; inputs are for the container."""
    return rel in (TRUTH, REFERENCE) or rel.startswith(REFERENCE + "/")


def _make_dirs(target: Path, path: Path) -> None:
    # Explicit modes, not the umask's: the container's unprivileged user must read inputs.
    for folder in [*reversed(path.relative_to(target).parents), path.relative_to(target)]:
        full = target / folder
        if folder != Path(".") and not full.is_dir():
            full.mkdir()
            full.chmod(0o700 if _private(folder.as_posix()) else 0o755)


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
