"""``tree_sha256`` of a folder, not read again while the folder is unchanged.

Hashing a folder reads every byte in it: loading a repository did so for each challenge's
scoring program on every command, an evaluation on a directory of hidden data every time.
A folder's *stat signature* (each entry's relative path, kind, size, mtime, ctime and inode,
and the folder's own path) changes whenever a file in it is written, added, removed or
replaced; ctime cannot be set back by a user, so even a same-size rewrite with its mtime
restored shows. ``folder_sha256`` keeps the hash under that signature: in memory for the
process and in ``<cache>/tree-sha256/`` for later commands.

A folder changed within the last ``RACY_S`` seconds is hashed but not remembered: a second
same-size write within the filesystem's timestamp granularity could leave the signature as it
was (git's "racy clean" entries).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

from runner.data.archive import tree_sha256, walk_tree

RACY_S = 2.0
MEMO = "tree-sha256"
_HEX = re.compile(r"[0-9a-f]{64}")
_memory: dict[str, str] = {}


def folder_sha256(path: Path, cache: Path | None) -> str:
    """``tree_sha256(path)``, remembered under the folder's stat signature (on disk under
    ``cache`` too, unless None). Raises what ``tree_sha256`` raises."""
    if not path.is_dir():
        return tree_sha256(path)  # its DataError says what is wrong
    signature, newest = _signature(path)
    known = _memory.get(signature) or _read(cache, signature)
    if known is None:
        known = tree_sha256(path)
        if time.time() - newest < RACY_S:
            return known
        _write(cache, signature, known)
    _memory[signature] = known
    return known


def _signature(path: Path) -> tuple[str, float]:
    """The stat signature's sha256, and the newest mtime or ctime in it (epoch seconds)."""
    digest = hashlib.sha256(str(path.resolve()).encode("utf-8") + b"\0")
    newest = 0
    for rel, full, is_dir in walk_tree(path):
        st = full.lstat()
        line = f"{rel}\0{'d' if is_dir else 'f'}\0{st.st_size}\0{st.st_mtime_ns}\0"
        digest.update(f"{line}{st.st_ctime_ns}\0{st.st_ino}\n".encode())
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
    return digest.hexdigest(), newest / 1e9


def _read(cache: Path | None, signature: str) -> str | None:
    if cache is None:
        return None
    try:
        text = (cache / MEMO / signature).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if _HEX.fullmatch(text) else None  # anything else: hash again


def _write(cache: Path | None, signature: str, sha256: str) -> None:
    if cache is None:
        return
    folder = cache / MEMO
    try:
        folder.mkdir(exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=".partial-", dir=folder)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(sha256 + "\n")
        os.replace(partial, folder / signature)
    except OSError:
        pass  # a read-only or full cache: hashed again next time
