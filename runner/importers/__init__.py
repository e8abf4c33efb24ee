"""``challenge-runner import``: bring a challenge from EvalAI or Codabench, scoring unmodified.

``import_bundle`` reads the bundle (``codabench`` or ``evalai`` module), writes one
challenge folder per draft (``common.write_challenge``), and loads each with the ordinary
loader so the import is proven valid before anyone commits it. Whatever could not be mapped
is in ``Imported.notes`` (and at the top of challenge.yaml), never dropped silently.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from runner.errors import ConfigError
from runner.importers.common import KEY_ENV, Imported, open_bundle, write_challenge

KINDS = ("codabench", "evalai")


def import_bundle(
    kind: str,
    path: Path,
    challenges: Path,
    *,
    challenge_id: str | None = None,
    image: str | None = None,
    key_env: str = KEY_ENV,
) -> list[Imported]:
    """Import the bundle at ``path`` (a folder or a zip) into ``challenges/``."""
    from runner import data as hidden_data
    from runner.importers import codabench, evalai
    from runner.loader import load_challenge

    if kind not in KINDS:
        raise ConfigError(f"unknown bundle kind {kind!r}; use one of {', '.join(KINDS)}")
    with tempfile.TemporaryDirectory(prefix="challenge-runner-bundle-") as tmp:
        work = Path(tmp)
        if kind == "codabench":
            root = open_bundle(path, codabench.MARKER, work)
            drafts = [codabench.read_bundle(root, challenge_id=challenge_id, image=image)]
        else:
            root = open_bundle(path, evalai.MARKER, work)
            drafts = evalai.read_bundle(root, work, challenge_id=challenge_id, image=image)
        for draft in drafts:
            if (challenges / draft.id).exists():
                raise ConfigError(
                    f"{challenges / draft.id} already exists; remove it or import with another --id"
                )
        keys = hidden_data.keygen()  # one key for everything one import writes
        done = [write_challenge(draft, challenges, keys, key_env=key_env) for draft in drafts]
    for imported in done:
        load_challenge(imported.folder / "challenge.yaml")  # raises with every problem
    return done
