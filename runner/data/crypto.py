"""age keys and encryption (via pyrage) for hidden data, private scores and maintainer detail.

Identities are X25519 age keys: ``AGE-SECRET-KEY-1...`` (secret, held by maintainers and CI)
and their recipients ``age1...`` (public, safe to commit). Text blobs stored inside JSON
records are ASCII-armored so they stay readable JSON strings.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pyrage
from pyrage import x25519

from runner.errors import DataError

AGE_MAGIC = b"age-encryption.org/v1"
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
IDENTITY_PREFIX = "AGE-SECRET-KEY-1"


def keygen() -> tuple[str, str]:
    """A new age key pair: ``(identity "AGE-SECRET-KEY-1...", recipient "age1...")``."""
    identity = x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def key_file_text(identity: str, recipient: str) -> str:
    """The identity in age-keygen's file format, which the ``age`` tool also reads."""
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    return f"# created: {created}\n# public key: {recipient}\n{identity}\n"


def ensure_demo_key(path: Path) -> str:
    """The recipient of the DEMO key at ``path``, creating the key file once.

    For example challenges only: a committed key protects nothing. The file says so.
    """
    if not path.exists():
        identity, recipient = keygen()
        path.write_text(
            "# DEMO ONLY: this key is public, so the example's hidden data is not secret.\n"
            "# Never commit the key of a real challenge: keep it in a repository secret.\n"
            f"# public key: {recipient}\n{identity}\n"
        )
    found = re.search(r"public key: (age1\w+)", path.read_text())
    if found is None:
        raise DataError(f"{path} has no '# public key: age1...' line; delete it to make a new one")
    return found.group(1)


def parse_recipients(recipients: Sequence[str]) -> list[x25519.Recipient]:
    """Parse ``age1...`` recipients; an empty list or a malformed one is a DataError."""
    if not recipients:
        raise DataError("no recipient given: pass the age1... public key of every key holder")
    parsed = []
    for text in recipients:
        try:
            parsed.append(x25519.Recipient.from_str(text.strip()))
        except pyrage.RecipientError as err:
            raise DataError(
                f"{text!r} is not an age recipient ({err}): use the age1... public key "
                "printed by `challenge-runner data keygen`"
            ) from err
    return parsed


def parse_identities(text: str, where: str) -> list[x25519.Identity]:
    """The identities in ``text`` (a bare key or a key file's contents; comments skipped).

    ``where`` names the source (e.g. "environment variable CHALLENGE_KEY") for messages; the
    secret itself never appears in a message.
    """
    lines = [line.strip() for line in text.splitlines()]
    keys = [line for line in lines if line.upper().startswith(IDENTITY_PREFIX)]
    if not keys:
        raise DataError(
            f"{where} holds no age identity: it must contain the AGE-SECRET-KEY-1... line "
            'itself, not a file name (e.g. export VAR="$(cat key.txt)")'
        )
    try:
        return [x25519.Identity.from_str(key) for key in keys]
    except pyrage.IdentityError as err:
        raise DataError(f"{where} holds a malformed age identity ({err})") from err


def encrypt_text(text: str, recipient: str) -> str:
    """Encrypt ``text`` to one recipient as ASCII-armored age (for JSON records)."""
    (parsed,) = parse_recipients([recipient])
    return pyrage.encrypt(text.encode("utf-8"), [parsed], armored=True).decode("ascii")


def decrypt_text(blob: str, identity: str) -> str:
    """Decrypt an armored blob made by ``encrypt_text`` with the identity (or key file text)."""
    identities = parse_identities(identity, "the identity given")
    try:
        plain = pyrage.decrypt(blob.encode("utf-8"), identities)
    except pyrage.DecryptError as err:
        raise DataError(f"cannot decrypt the encrypted text: {_decrypt_reason(err)}") from err
    return plain.decode("utf-8")


def is_age(head: bytes) -> bool:
    """Whether a file starting with ``head`` is age-encrypted (binary or armored)."""
    return head.startswith(AGE_MAGIC) or head.lstrip().startswith(ARMOR_BEGIN)


def decrypt_file(source: Path, target: Path, identities: list[x25519.Identity], where: str) -> None:
    """Stream-decrypt ``source`` into ``target``; ``where`` names the key's origin."""
    try:
        with source.open("rb") as reader, target.open("wb") as writer:
            pyrage.decrypt_io(reader, writer, identities)
    except pyrage.DecryptError as err:
        raise DataError(
            f"cannot decrypt with the identity in {where}: {_decrypt_reason(err)}", path=str(source)
        ) from err
    except OSError as err:
        # pyrage reports a failed chunk (damage, truncation) as a bare OSError.
        raise DataError(
            f"cannot decrypt: the archive is damaged or truncated ({err}); "
            "re-download it or pack it again",
            path=str(source),
        ) from err


class HashingWriter:
    """A write-only file wrapper that hashes what passes through it."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> int:
        self.digest.update(chunk)
        return self.raw.write(chunk)

    def flush(self) -> None:
        self.raw.flush()


def encrypt_stream(reader: BinaryIO, writer: BinaryIO, recipients: list[x25519.Recipient]) -> str:
    """Encrypt ``reader`` into ``writer`` (binary age); returns the sha256 of the ciphertext."""
    hashing = HashingWriter(writer)
    pyrage.encrypt_io(reader, hashing, recipients)
    return hashing.digest.hexdigest()


def _decrypt_reason(err: Exception) -> str:
    if "no matching keys" in str(err).lower():
        return "it was encrypted to other recipients (wrong key); use the key it was packed for"
    return f"{err}; the data is damaged, truncated or not age-encrypted"
