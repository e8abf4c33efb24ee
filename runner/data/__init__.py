"""Hidden data: age keys, encrypted archives, and obtaining the data safely (DESIGN §4).

``keygen`` makes a key pair, ``pack`` turns a folder with ``inputs/`` and ``truth.csv`` into
an encrypted archive for the repository, ``open_hidden`` gets a challenge's hidden data
(verified, decrypted, unpacked, cached) for a run, and ``encrypt_text``/``decrypt_text``
protect private scores and maintainer detail inside result records.
"""

from runner.data.archive import LAYOUT, MAX_BYTES, MAX_FILES, file_sha256, pack, tree_sha256
from runner.data.cachedir import CACHE_ENV
from runner.data.crypto import decrypt_text, encrypt_text, ensure_demo_key, keygen
from runner.data.hidden import HiddenData, Identity, find_identity, open_hidden

__all__ = [
    "CACHE_ENV",
    "LAYOUT",
    "MAX_BYTES",
    "MAX_FILES",
    "HiddenData",
    "Identity",
    "decrypt_text",
    "encrypt_text",
    "ensure_demo_key",
    "file_sha256",
    "find_identity",
    "keygen",
    "open_hidden",
    "pack",
    "tree_sha256",
]
