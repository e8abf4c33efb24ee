"""The example challenges regenerate byte for byte from their scripts (fixed seeds)."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runner.loader import load_challenge

REPO = Path(__file__).resolve().parent.parent


def differing(left: Path, right: Path) -> list[str]:
    """Files that differ or exist on one side only, recursively."""
    cmp = filecmp.dircmp(left, right)
    found = [str(left / n) for n in cmp.diff_files + cmp.left_only + cmp.right_only]
    for sub in cmp.common_dirs:
        found += differing(left / sub, right / sub)
    return found


@pytest.mark.parametrize("challenge", ["breast-cancer", "diabetes"])
def test_make_data_is_reproducible(tmp_path: Path, challenge: str) -> None:
    for part in ("challenges", "submissions", "runner"):
        shutil.copytree(REPO / part, tmp_path / part)
    script = tmp_path / "challenges" / challenge / "make_data.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    public = Path("challenges", challenge, "public")
    assert differing(tmp_path / public, REPO / public) == []
    subs = Path("submissions", challenge)
    assert differing(tmp_path / subs, REPO / subs) == []
    # The archive is re-encrypted (age is randomised) and challenge.yaml follows it.
    regenerated = load_challenge(tmp_path / "challenges" / challenge)
    digest = subprocess.run(
        ["sha256sum", str(tmp_path / "challenges" / challenge / "hidden.tar.age")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert regenerated.hidden.sha256 == digest
