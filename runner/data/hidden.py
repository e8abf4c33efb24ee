"""Getting a challenge's hidden data onto this machine, verified and unpacked (DESIGN §4).

Sources (``data.hidden.source``): a path to an age-encrypted tar (relative to the challenge
folder, or absolute), ``file:///abs/path`` or a plain directory, or ``https://...``. Archive
bytes are checked against ``data.hidden.sha256`` before they are decrypted or unpacked.

Unpacked archives are cached in ``<cache>/<sha256>/`` (cache: ``$CHALLENGE_RUNNER_CACHE``
or ``~/.cache/challenge-runner``, mode 0700). Work happens in ``<cache>/.partial-<pid>-*``
and the finished tree is renamed into place, so a crash never leaves a half entry; partial
folders of dead processes are removed on the next call. A complete entry is trusted as is:
delete it to force a fresh unpack. The scorer keeps the truth prepared once (typed, split,
its ids hashed) in ``<entry>/prepared/`` (``runner.truthcache``), beside ``inputs/``. A
directory source is used in place; its prepared truth goes to
``<cache>/directories/<tree sha256>/prepared/``: keyed by content, so an edited truth.csv is
prepared again (``runner.data.fingerprint`` keeps the folder from being re-read to know).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.data import archive, crypto, fetch
from runner.data.archive import INPUTS, MAX_BYTES, MAX_FILES, REFERENCE, TRUTH, Progress, has_truth
from runner.data.cachedir import open_cache
from runner.data.fingerprint import folder_sha256
from runner.errors import DataError
from runner.models import Challenge, HiddenDataSpec

DOWNLOAD_TIMEOUT_S = 3600.0
DIRECTORIES = "directories"  # <cache>/directories/<tree sha256>/prepared: a folder's truth


@dataclass(frozen=True)
class HiddenData:
    """Hidden data ready to use.

    ``inputs`` is the folder mounted read-only as ``/input`` in the container; ``truth`` is
    the scorer's file and is never inside ``inputs``. ``sha256`` identifies the data in
    result provenance: the archive's sha256, or ``tree_sha256`` of a directory. ``prepared``
    is a private folder in the cache entry (beside ``truth``, never under ``inputs``) where
    the scorer keeps the truth prepared once (``runner.truthcache``): for a directory,
    ``<cache>/directories/<sha256>/prepared``, so a changed folder gets its own; None when
    the cache cannot be used.
    """

    inputs: Path
    truth: Path
    sha256: str
    prepared: Path | None = None

    @property
    def reference(self) -> Path:
        """The scoring program's reference data (``reference/``), beside ``truth``."""
        return self.truth.parent / REFERENCE


@dataclass(frozen=True)
class _Options:
    env: Mapping[str, str]
    root: Path  # the challenge folder: relative paths in challenge.yaml start here
    cache_dir: Path | None
    max_files: int
    max_bytes: int
    download_timeout: float
    allow_insecure_loopback: bool
    say: Progress
    override: str | None  # the caller's option for a local data folder, e.g. "--data DIR"

    def or_override(self, what: str = "") -> str:
        """``, or pass --data DIR<what>`` when the caller has such an option, else ''."""
        return f", or pass {self.override}{what}" if self.override else ""


def open_hidden(
    challenge: Challenge,
    *,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    max_files: int = MAX_FILES,
    max_bytes: int = MAX_BYTES,
    download_timeout: float = DOWNLOAD_TIMEOUT_S,
    allow_insecure_loopback: bool = False,
    progress: Progress | None = None,
    override: str | None = None,
) -> HiddenData:
    """Obtain, verify and unpack the hidden data of ``challenge``.

    ``data_dir`` (e.g. ``--data DIR``) overrides the challenge's source with a local folder
    holding ``inputs/`` and ``truth.csv``. ``env`` (default ``os.environ``) supplies the
    identity (``key_env``; when that variable is unset, the committed ``demo_key_file`` if
    the challenge has one), the token (``token_env``) and the cache location. ``progress``
    receives a short line per long stage (download, decrypt, unpack). Plain ``http://`` is
    refused unless ``allow_insecure_loopback`` (tests only) and the host is loopback.
    Every failure is a DataError saying what to fix; ``override`` names the caller's option
    for a local data folder (``evaluate``'s ``"--data DIR"``) so the fix may suggest it, and
    is None where the caller has none (``run``, the CI jobs).
    """
    env = os.environ if env is None else env
    options = _Options(
        env=env,
        root=challenge.root,
        cache_dir=cache_dir,
        max_files=max_files,
        max_bytes=max_bytes,
        download_timeout=download_timeout,
        allow_insecure_loopback=allow_insecure_loopback,
        say=progress or (lambda _message: None),
        override=override,
    )
    if data_dir is not None:
        return _from_directory(Path(data_dir), None, options)
    spec = challenge.hidden
    if urllib.parse.urlsplit(spec.source).scheme in ("http", "https"):
        return _from_url(spec, options)
    path = _local_path(spec.source, challenge.root)
    if path.is_dir():
        return _from_directory(path, spec.sha256, options)
    if path.is_file():
        return _from_archive_file(path, spec, options)
    raise DataError(
        f"hidden data {spec.source!r} not found (looked at {path}); fix data.hidden.source in "
        f"challenge.yaml{options.or_override()}",
        path=str(challenge.root / "challenge.yaml"),
    )


def _local_path(source: str, root: Path) -> Path:
    if source.startswith("file:"):
        parts = urllib.parse.urlsplit(source)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise DataError(
                f"{source!r} is not a local file URL; write file:///absolute/path",
                path=str(root / "challenge.yaml"),
            )
        return Path(urllib.parse.unquote(parts.path))
    path = Path(source)
    return path if path.is_absolute() else root / path


def _from_directory(directory: Path, expected: str | None, options: _Options) -> HiddenData:
    """The folder used in place; its truth prepared in the cache, keyed by its content."""
    archive.check_layout(directory)
    try:
        cache: Path | None = _cache_root(options)
    except DataError:
        cache = None  # the folder itself needs no cache: only the speed-ups are lost
    sha256 = folder_sha256(directory, cache)
    if expected and expected.lower() != sha256:
        raise DataError(_mismatch(expected, sha256, "folder"), path=str(directory))
    prepared = cache / DIRECTORIES / sha256 / "prepared" if cache else None
    return HiddenData(directory / INPUTS, directory / TRUTH, sha256, prepared)


def _from_archive_file(path: Path, spec: HiddenDataSpec, options: _Options) -> HiddenData:
    actual = archive.file_sha256(path)
    _verify(spec.sha256, actual, str(path))
    with path.open("rb") as handle:
        if not crypto.is_age(handle.read(64)):
            raise DataError(
                "hidden data in a file must be age-encrypted: make it with "
                "`challenge-runner data pack DIR --recipient age1... -o FILE`",
                path=str(path),
            )
    return _cached(actual, options, lambda work: _decrypt(path, spec, work, options))


def _from_url(spec: HiddenDataSpec, options: _Options) -> HiddenData:
    fetch.check_url(spec.source, allow_insecure_loopback=options.allow_insecure_loopback)

    def fill(work: Path) -> Path:
        token = _token(spec, options)  # only now: a warm cache needs no secret
        downloaded = work / "download"
        options.say(f"downloading {fetch.display_url(spec.source)}")
        actual = fetch.download(
            spec.source,
            downloaded,
            token=token,
            token_env=spec.token_env,
            max_bytes=options.max_bytes,
            timeout=options.download_timeout,
            allow_insecure_loopback=options.allow_insecure_loopback,
        )
        _verify(spec.sha256, actual, fetch.display_url(spec.source))
        with downloaded.open("rb") as handle:
            encrypted = crypto.is_age(handle.read(64))
        # A URL behind a token may serve a plain tar; a file in the repository may not.
        return _decrypt(downloaded, spec, work, options) if encrypted else downloaded

    return _cached(spec.sha256.lower() if spec.sha256 else None, options, fill)


def _token(spec: HiddenDataSpec, options: _Options) -> str | None:
    if not spec.token_env:
        return None
    token = options.env.get(spec.token_env)
    if not token:
        raise DataError(
            f"the environment variable {spec.token_env} (data.hidden.token_env) is not set: "
            f"set it to a token that can read the hidden data{options.or_override()}"
        )
    return token


def _decrypt(path: Path, spec: HiddenDataSpec, work: Path, options: _Options) -> Path:
    secret, where = _identity(path, spec, options)
    identities = crypto.parse_identities(secret, where)
    options.say(f"decrypting {path.name}")
    plain = work / "archive.tar"
    crypto.decrypt_file(path, plain, identities, where)
    return plain


@dataclass(frozen=True)
class Identity:
    """An age identity and where it came from (for messages; never print ``secret``)."""

    secret: str
    source: str  # "environment variable X" or "demo key file PATH"
    demo: Path | None = None  # the committed DEMO key file it was read from, if so


def find_identity(spec: HiddenDataSpec, env: Mapping[str, str], root: Path) -> Identity | None:
    """The challenge's age identity: the ``key_env`` variable, else the committed DEMO key
    file (relative to the challenge folder ``root``); None when there is neither.

    The one place that decides which key opens a challenge's data (``open_hidden``, and the
    CI jobs that decrypt what the ingest job sealed to the challenge).
    """
    if spec.key_env and env.get(spec.key_env):
        return Identity(env[spec.key_env], f"environment variable {spec.key_env}")
    if spec.demo_key_file is None:
        return None
    demo = spec.demo_key_file if spec.demo_key_file.is_absolute() else root / spec.demo_key_file
    try:
        return Identity(demo.read_text(encoding="utf-8"), f"demo key file {demo}", demo)
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the demo key file: {err}", path=str(demo)) from err


def _identity(path: Path, spec: HiddenDataSpec, options: _Options) -> tuple[str, str]:
    """The identity text and where it came from (for messages; never the secret itself)."""
    found = find_identity(spec, options.env, options.root)
    if found is not None:
        if found.demo is not None:
            name = found.demo.name
            options.say(f"using the DEMO key {name}: it is public, so this data is not secret")
        return found.secret, found.source
    if not spec.key_env:
        raise DataError(
            "the hidden data is age-encrypted but data.hidden.key_env is not set: add "
            "key_env: NAME to challenge.yaml and put the identity in that variable",
            path=str(path),
        )
    raise DataError(
        f"the hidden data is encrypted and the environment variable {spec.key_env} is not "
        f'set: export {spec.key_env}="$(cat KEY_FILE)" with the age identity (in CI, a '
        f"repository secret of that name){options.or_override(' with the decrypted data')}",
        path=str(path),
    )


def _verify(expected: str | None, actual: str, where: str) -> None:
    if not expected:
        raise DataError(
            f"data.hidden.sha256 is not set in challenge.yaml; this file's sha256 is {actual}: "
            "add it after checking that it is the file you meant",
            path=where,
        )
    if expected.lower() != actual:
        raise DataError(_mismatch(expected, actual, "file"), path=where)


def _mismatch(expected: str, actual: str, what: str) -> str:
    return (
        f"sha256 mismatch: challenge.yaml says {expected.lower()} but the {what} has {actual}; "
        f"if the data was re-packed on purpose, put the new sha256 in data.hidden.sha256, "
        f"otherwise restore the {what}"
    )


def _cached(sha256: str | None, options: _Options, fill: Callable[[Path], Path]) -> HiddenData:
    """Return the cache entry for ``sha256``, building it with ``fill(work) -> tar`` if absent.

    ``sha256`` is None only for a URL without a declared hash: the download then fails
    verification inside ``fill`` and tells the maintainer the hash to declare.
    """
    root = _cache_root(options)
    entry = root / sha256 if sha256 else None
    if entry is not None and _complete(entry):
        options.say("using cached hidden data")
        return _entry(entry, entry.name)
    work = Path(tempfile.mkdtemp(prefix=f".partial-{os.getpid()}-", dir=root))
    try:
        tar = fill(work)
        options.say("unpacking")
        archive.extract(
            tar, work / "tree", max_files=options.max_files, max_bytes=options.max_bytes
        )
        assert entry is not None  # fill() verified the hash, so one was declared
        _install(work / "tree", entry)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _entry(entry, entry.name)  # the cache entry is named for the sha256


def _install(tree: Path, entry: Path) -> None:
    if entry.exists() and not _complete(entry):
        shutil.rmtree(entry)  # not made by us (renames are atomic): start it over
    try:
        os.rename(tree, entry)
    except OSError:
        if not _complete(entry):  # another process finished the same entry first
            raise


def _cache_root(options: _Options) -> Path:
    root = open_cache(options.env, options.cache_dir)
    _remove_stale(root)
    return root


def _remove_stale(root: Path) -> None:
    """Delete partial folders left by processes that died mid-way."""
    for partial in root.glob(".partial-*"):
        pid = partial.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _complete(entry: Path) -> bool:
    return (entry / INPUTS).is_dir() and has_truth(entry)


def _entry(entry: Path, sha256: str) -> HiddenData:
    return HiddenData(
        inputs=entry / INPUTS, truth=entry / TRUTH, sha256=sha256, prepared=entry / "prepared"
    )
