"""``/output`` on the host: a size-capped directory, and a safe copy of what it holds.

How the cap holds: ``/output`` is a host tmpfs mounted on a fresh directory under the
caller's ``work_dir`` with ``size=<output_limit>`` and ``nr_inodes`` capped, owned by the
sandbox user (root mounts it; a non-root runner uses ``sudo -n``). The kernel refuses writes
past the cap (ENOSPC), so the host disk is never touched; the pages count against the
container's memory limit, since the kernel charges tmpfs pages to the writer's cgroup. When
the runner cannot mount (``check_engine`` reports it) it runs only in unsafe mode, with a
plain directory, the ``fsize`` ulimit per file and a size check afterwards.

The predictions file is opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat``:
a symlink, FIFO, device or directory is refused without being followed, and at most
``limit`` bytes are copied to the caller's ``work_dir``. A code submission's whole output
is zipped the same way (``collect_folder``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import shutil
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from runner.errors import SandboxError

log = logging.getLogger(__name__)

PREDICTIONS = "predictions.csv"
MOUNT_SOURCE = "challenge-runner-output"  # + "@<deadline>": see reap.py
MAX_FILES = 4096  # nr_inodes of the tmpfs: creating millions of empty files is refused too
_CHUNK = 1 << 20


def _tmpfs_options(limit: int, mode: str) -> str:
    owner = f"uid=65534,gid=65534,mode={mode}"  # the sandbox user's
    return f"size={limit},nr_inodes={MAX_FILES},{owner},nosuid,nodev,noexec"


def _mount_tmpfs(path: Path, limit: int, prefix: list[str], deadline: int) -> None:
    # Root reads the files back, so 0700 keeps them private; a sudo runner needs to traverse.
    mode = "0700" if not prefix else "0755"
    cmd = [*prefix, "mount", "-t", "tmpfs", "-o", _tmpfs_options(limit, mode)]
    done = subprocess.run(
        [*cmd, f"{MOUNT_SOURCE}@{deadline}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SandboxError(
            "cannot mount the size-capped /output directory on the runner",
            detail=f"{' '.join(cmd)}: {done.stderr.strip()}",
        )


def unmount(path: Path, prefix: list[str]) -> None:
    """Unmount ``path``, lazily if it is still busy."""
    done = subprocess.run([*prefix, "umount", str(path)], capture_output=True, check=False)
    if done.returncode != 0:  # still busy (should not happen: the container is gone): detach
        subprocess.run([*prefix, "umount", "-l", str(path)], capture_output=True, check=False)


UNSHARE = ["podman", "unshare"]  # the mount prefix for rootless Podman (see _unshared_tmpfs)
# Run by `podman unshare` in rootless Podman's user and mount namespace: mount $2 on $3 with
# options $1, say its pid, hold the mount until the runner closes standard input (or dies),
# then unmount it.
_HOLD_TMPFS = (
    'mount -t tmpfs -o "$1" "$2" "$3" || exit; echo "$$"; '
    'read -r _; umount "$3" 2>/dev/null || umount -l "$3"'
)
_UNSHARE_WAIT_S = 60


@dataclass(frozen=True)
class Output:
    """``/output`` on the runner: ``path`` is what the container mounts, ``view`` where the
    runner reads what it holds, and ``namespace`` (``/proc/<pid>/ns/mnt``) the mount
    namespace holding its tmpfs when that is not the runner's (rootless Podman), else None."""

    path: Path
    view: Path
    namespace: Path | None = None


@contextlib.contextmanager
def _unshared_tmpfs(path: Path, options: str, source: str) -> Iterator[Output]:
    """Mount the tmpfs inside rootless Podman's namespace and yield where the runner reads it.

    A rootless engine lives in a user and mount namespace of its own (kept by its pause
    process): a tmpfs mounted on the host is invisible there, and the runner cannot mount
    one anyway. ``podman unshare`` enters that namespace, where the runner's user is root
    and may mount a tmpfs; a helper holds it there for the run. The runner reads what the
    container wrote through the helper's view, ``/proc/<pid>/root``; ``run.py`` checks that
    the engine's conmon is in the same namespace (``Output.namespace``).
    """
    helper = subprocess.Popen(
        [*UNSHARE, "sh", "-c", _HOLD_TMPFS, "sh", options, source, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert helper.stdin is not None and helper.stdout is not None
    try:
        ready, _, _ = select.select([helper.stdout], [], [], _UNSHARE_WAIT_S)
        pid = (helper.stdout.readline() if ready else "").strip()
        if not pid.isdigit():
            helper.kill()
            raise SandboxError(
                "cannot mount the size-capped /output directory in the rootless engine's namespace",
                detail=f"podman unshare mount: {helper.communicate()[1].strip()}",
            )
        proc = Path(f"/proc/{pid}")
        yield Output(path, proc / "root" / path.relative_to("/"), proc / "ns" / "mnt")
    finally:
        helper.stdin.close()  # the helper unmounts and ends
        try:
            helper.wait(timeout=_UNSHARE_WAIT_S)
        except subprocess.TimeoutExpired:
            helper.kill()
            log.warning("the helper holding %s did not end; killed", path)


@contextlib.contextmanager
def capped_output(
    work_dir: Path, limit: int, prefix: list[str] | None, deadline: int
) -> Iterator[Output]:
    """A fresh directory for ``/output``, capped at ``limit`` bytes; removed on exit.

    ``prefix`` is how to run mount (``[]`` as root, ``["sudo", "-n"]``, ``UNSHARE`` in
    rootless Podman's namespace), or None for the unsafe fallback (an unmounted directory
    the sandbox user may write). ``deadline`` (Unix time) goes into the mount's source name,
    so an orphan can be reaped (``reap.py``; a rootless helper unmounts when its runner dies,
    and one killed with it leaves a tmpfs ``reap.py`` unmounts in the engine's namespace).
    """
    path = Path(tempfile.mkdtemp(prefix="output-", dir=work_dir)).resolve()
    mounted = False
    try:
        if prefix is None:
            path.chmod(0o777)  # unsafe fallback: no cap but fsize, checked afterwards
            yield Output(path, path)
        elif prefix == UNSHARE:
            options = _tmpfs_options(limit, "0755")
            with _unshared_tmpfs(path, options, f"{MOUNT_SOURCE}@{deadline}") as output:
                yield output
        else:
            _mount_tmpfs(path, limit, prefix, deadline)
            mounted = True
            yield Output(path, path)
    finally:
        if mounted:
            unmount(path, prefix or [])
        shutil.rmtree(path, onerror=lambda *a: log.warning("cannot remove %s", a[1]))


def _open_predictions(path: Path) -> tuple[int | None, str | None]:
    """An fd for the predictions file, or a participant-safe reason it is unusable."""
    name = f"/output/{PREDICTIONS}"
    if not os.path.lexists(path):
        return None, f"wrote no {name}; write the predictions there"
    fd, reason = _open_output(path, name)
    return fd, reason or None


def collect_predictions(
    output_dir: Path, dest_dir: Path, limit: int, limit_text: str
) -> tuple[Path | None, str]:
    """Copy ``output_dir/predictions.csv`` into ``dest_dir`` safely.

    Returns ``(copy, "")`` or ``(None, participant-safe reason)``. Never follows a link,
    never blocks on a FIFO, never copies more than ``limit`` bytes.
    """
    fd, reason = _open_predictions(output_dir / PREDICTIONS)
    if fd is None:
        return None, reason or ""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # a directory, FIFO or device: never read it
        os.close(fd)
        return None, f"/output/{PREDICTIONS} is not a regular file"
    with os.fdopen(fd, "rb") as source:
        too_big = f"/output/{PREDICTIONS} is larger than the {limit_text} output limit"
        if info.st_size > limit:
            return None, too_big
        handle, name = tempfile.mkstemp(prefix="predictions-", suffix=".csv", dir=dest_dir)
        copied = 0
        with os.fdopen(handle, "wb") as dest:
            while chunk := source.read(min(_CHUNK, limit + 1 - copied)):
                dest.write(chunk)
                copied += len(chunk)
                if copied > limit:
                    break
    if copied > limit:  # grew between fstat and read (cannot on a stopped container)
        os.unlink(name)
        return None, too_big
    return Path(name), ""


def collect_folder(
    output_dir: Path, dest_dir: Path, limit: int, where: str
) -> tuple[Path | None, str]:
    """Zip every file the container left in ``output_dir`` into ``dest_dir`` safely.

    For code submissions, whose whole output goes to the scoring program. Returns
    ``(zip, "")`` or ``(None, participant-safe reason)``; ``where`` names the folder as the
    container saw it. Never follows a link, never opens a FIFO or device, never reads more
    than ``limit`` bytes in all; names are sorted and dated 1980, so equal output gives
    equal bytes.
    """
    files, reason = _output_files(output_dir, where)
    if reason:
        return None, reason
    if not files:
        return None, f"wrote nothing to {where}; write the outputs there"
    handle, name = tempfile.mkstemp(prefix="output-", suffix=".zip", dir=dest_dir)
    os.close(handle)
    total = 0
    with zipfile.ZipFile(name, "w", zipfile.ZIP_STORED) as bundle:
        for relative in files:
            fd, reason = _open_output(output_dir / relative, f"{where}/{relative}")
            if fd is None:
                break
            with os.fdopen(fd, "rb") as source:
                if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                    reason = f"{where}/{relative} is not a regular file"
                    break
                info = zipfile.ZipInfo(relative, date_time=(1980, 1, 1, 0, 0, 0))
                with bundle.open(info, "w") as sink:
                    while chunk := source.read(_CHUNK):
                        total += len(chunk)
                        if total > limit:
                            reason = f"{where} holds more than the output limit"
                            break
                        sink.write(chunk)
            if reason:
                break
    if reason:
        os.unlink(name)
        return None, reason
    return Path(name), ""


def _output_files(output_dir: Path, where: str) -> tuple[list[str], str]:
    """Relative names of the files under ``output_dir`` (sorted), or a reason to refuse."""
    found: list[str] = []
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(output_dir / relative) as entries:
            for entry in entries:
                name = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_symlink():
                    return [], f"{where}/{name} is a symbolic link; write regular files"
                if entry.is_dir(follow_symlinks=False):
                    pending.append(name)
                elif entry.is_file(follow_symlinks=False):
                    found.append(name)
                else:
                    return [], f"{where}/{name} is not a regular file"
                if len(found) + len(pending) > MAX_FILES:
                    return [], f"{where} holds more than {MAX_FILES} files"
    return sorted(found), ""


def _open_output(path: Path, name: str) -> tuple[int | None, str]:
    """An fd for one output file, or a participant-safe reason it is unusable."""
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC), ""
    except OSError as err:
        if err.errno == errno.ELOOP:
            return None, f"{name} is a symbolic link; write a regular file"
        if err.errno == errno.EACCES:
            return None, f"{name} is not readable; make it readable (mode 0644)"
        code = err.errno or 0
        return None, f"{name} cannot be read ({errno.errorcode.get(code, code)})"
