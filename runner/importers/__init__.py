"""``challenge-runner import``: bring a challenge from EvalAI or Codabench, scoring unmodified.

``import_bundle`` reads the bundle (``codabench`` or ``evalai`` module), writes one
challenge folder per draft (``common.write_challenge``), and loads each with the ordinary
loader so the import is proven valid before anyone commits it. Whatever could not be mapped
is in ``Imported.notes`` (and at the top of challenge.yaml), never dropped silently.
"""

from __future__ import annotations

import re
import shutil
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
    _check_names(challenge_id, key_env)
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
        done: list[Imported] = []
        try:
            for draft in drafts:
                done.append(write_challenge(draft, challenges, keys, key_env=key_env))
            for imported in done:
                load_challenge(imported.folder / "challenge.yaml")  # raises with every problem
        except BaseException:
            # Nothing half-imported stays: a folder left behind would hold data encrypted to
            # a key that is never printed, and block the next try ("already exists").
            for imported in done:
                shutil.rmtree(imported.folder, ignore_errors=True)
            raise
    return done


def _check_names(challenge_id: str | None, key_env: str) -> None:
    """Refuse names challenge.yaml would refuse (its schema's patterns), before anything is
    written."""
    from runner.schemas import load_schema

    schema = load_schema("challenge")
    id_pattern = schema["properties"]["id"]["pattern"]
    env_pattern = schema["definitions"]["envname"]["pattern"]
    if challenge_id is not None and not re.match(id_pattern, challenge_id):
        raise ConfigError(
            f"--id {challenge_id!r}: a challenge id is lower-case letters, digits and dashes "
            "(at most 63), e.g. wheat-seeds"
        )
    if not re.match(env_pattern, key_env):
        raise ConfigError(
            f"--key-env {key_env!r}: an environment variable name in capitals, digits and _, "
            f"e.g. {re.sub(r'[^A-Z0-9_]', '_', key_env.upper())[:64] or 'CHALLENGE_KEY'}"
        )
