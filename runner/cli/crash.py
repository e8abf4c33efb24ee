"""What an unexpected error (a bug) leaves behind, so the traceback reaches a maintainer.

The traceback goes to a new file of its own (``challenge-runner-crash-*.log``, never a fixed
name: a file left by another user or run can neither refuse the write nor be overwritten)
in ``$CHALLENGE_RUNNER_LOG_DIR``, else the job's ``$RUNNER_TEMP``, else the temp dir. In
GitHub Actions that file vanishes with the runner, so the traceback also goes to the job log:

- in clear for commands that never open hidden data, between ``::stop-commands::`` markers
  so no line of it (a participant's file name, say) can act as a workflow command;
- sealed for commands that open hidden data (a traceback can quote inputs or truth):
  age-encrypted to ``$CHALLENGE_RUNNER_SEAL_TO`` (the workflows pass the ingest key's
  recipient, whose identity the maintainers hold), or left out when that is unset.

Saving can fail too (a full disk, a read-only folder): that is said, and never replaces the
bug's own message.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

# Commands that open hidden inputs, truth or sealed scores: their tracebacks are sealed.
SEALED = frozenset({"evaluate", "run", "reveal", "pr stage", "pr ingest", "pr score"})


def command_name(argv: list[str]) -> str:
    """``pr score`` for ``["pr", "score", "--root", "."]``; ``""`` when none is given."""
    words = [a for a in argv if not a.startswith("-")][:2]
    if not words:
        return ""
    return " ".join(words) if words[0] == "pr" and len(words) > 1 else words[0]


def log_dir(env: Mapping[str, str]) -> Path:
    return Path(
        env.get("CHALLENGE_RUNNER_LOG_DIR") or env.get("RUNNER_TEMP") or tempfile.gettempdir()
    )


def save(text: str, env: Mapping[str, str]) -> tuple[Path | None, str]:
    """Write ``text`` to a new crash log; return its path, or None and why it failed."""
    try:
        folder = log_dir(env)
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="challenge-runner-crash-", suffix=".log", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as err:
        return None, f"{type(err).__name__}: {err}"
    return Path(name), ""


def report(
    err: BaseException,
    text: str,
    argv: list[str],
    env: Mapping[str, str],
    echo: Callable[[str], None],
) -> None:
    """Tell the user about the bug ``err`` (traceback ``text``) on ``echo`` (stderr)."""
    path, failure = save(text, env)
    where = (
        f"the traceback is in {path}" if path else f"the traceback could not be saved ({failure})"
    )
    in_actions = env.get("GITHUB_ACTIONS") == "true"
    sealed = command_name(argv) in SEALED
    # The message can quote what the command read: in a public log it is sealed too.
    what = f"{err}" if not (sealed and in_actions) else "(its message is sealed)"
    echo(
        f"internal error: {type(err).__name__}: {what}\n"
        f"This is a bug in challenge-runner; {where}. Please report it."
    )
    if sealed:
        if in_actions or path is None:
            _sealed(text, env, echo)
    elif in_actions or path is None:
        token = secrets.token_hex(16)
        echo(f"::stop-commands::{token}\n{text.rstrip()}\n::{token}::")


def _sealed(text: str, env: Mapping[str, str], echo: Callable[[str], None]) -> None:
    recipient = env.get("CHALLENGE_RUNNER_SEAL_TO", "").strip()
    if not recipient:
        echo(
            "This command opens hidden data, so its traceback is not shown here; set "
            "CHALLENGE_RUNNER_SEAL_TO to an age recipient to get it sealed in this log."
        )
        return
    from runner.data.crypto import encrypt_text

    try:
        blob = encrypt_text(text, recipient)
    except Exception as sealing:  # a bad recipient must not hide the bug itself
        echo(f"The traceback could not be sealed ({type(sealing).__name__}: {sealing}).")
        return
    echo(
        "The traceback, sealed to CHALLENGE_RUNNER_SEAL_TO (open it with "
        "`age -d -i <identity file>`):\n" + blob.rstrip()
    )
