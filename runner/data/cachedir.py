"""The folder where this machine keeps what the runner derives from data.

``$CHALLENGE_RUNNER_CACHE``, else ``~/.cache/challenge-runner``; mode 0700, since decrypted
truth lives there. It holds unpacked hidden data (``runner.data.hidden``), the truth
prepared once (``runner.truthcache``) and remembered folder hashes (``runner.data.fingerprint``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from runner.errors import DataError

CACHE_ENV = "CHALLENGE_RUNNER_CACHE"


def open_cache(env: Mapping[str, str], cache_dir: Path | None = None) -> Path:
    """The cache folder (``cache_dir`` if given), made and closed to other users."""
    default = Path(env.get("HOME") or Path.home()) / ".cache" / "challenge-runner"
    root = Path(cache_dir or env.get(CACHE_ENV) or default)
    try:
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)  # decrypted truth lives here: no other user may look in
    except OSError as err:
        raise DataError(
            f"cannot use the cache folder ({err}); set {CACHE_ENV} to a writable folder",
            path=str(root),
        ) from err
    return root


def default_cache() -> Path | None:
    """The cache folder of this process's environment; None when it cannot be used (what is
    kept there is only a speed-up)."""
    try:
        return open_cache(os.environ)
    except DataError:
        return None
