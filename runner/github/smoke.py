"""What ``pr smoke`` shows of a container's run on the public sample inputs.

That run saw no hidden input and no secret, so its output may be shown (DESIGN §9b) -- and a
participant whose container crashed needs it. It is still participant-controlled text:
invisible and control characters are dropped, it is capped, the workflow log gets it between
``::stop-commands::`` markers (so a line such as ``::add-mask::`` is not obeyed), and the
step summary gets it in a code block whose fence is longer than any backtick run inside.
Runs on hidden inputs never come here: their output stays in the sealed ``detail``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from runner.github.escape import md_text, visible, workflow_data

MAX_LINES = 40
MAX_CHARS = 4000


@dataclass(frozen=True)
class SmokeRun:
    key: str  # challenge/participant/name
    status: str  # "ok" or a final status (failed, timeout, oom, ...)
    message: str
    output: str | None  # the container's stdout/stderr tail, None when it did not run


def shown_output(output: str) -> str:
    """The tail a reader sees: visible characters only, at most MAX_LINES and MAX_CHARS."""
    text = visible(output.replace("\r\n", "\n").replace("\r", "\n")).rstrip("\n")
    lines = text.split("\n")[-MAX_LINES:]
    text = "\n".join(lines)
    return text[-MAX_CHARS:] if len(text) > MAX_CHARS else text


def log_lines(run: SmokeRun) -> list[str]:
    """Lines for the workflow log: the outcome, then the output between stop-commands."""
    ok = run.status == "ok"
    failed = f"::error title=smoke run::{workflow_data(f'{run.key}: {run.status}: {run.message}')}"
    lines = [f"{run.key}: smoke run produced predictions" if ok else failed]
    if run.output is None:
        return lines
    shown = shown_output(run.output)
    token = secrets.token_hex(16)
    lines.append(f"{run.key}: container output (last {MAX_LINES} lines at most):")
    lines.append(f"::stop-commands::{token}")
    lines += [f"  {line}" for line in shown.split("\n")] if shown else ["  (no output)"]
    lines.append(f"::{token}::")
    return lines


def summary_markdown(runs: list[SmokeRun]) -> str:
    """The step summary: a heading, and per run its outcome and output in a code block."""
    parts = ["### Smoke run on the public sample inputs", ""]
    for run in runs:
        outcome = "produced predictions" if run.status == "ok" else f"{run.status}: {run.message}"
        parts.append(f"**{md_text(run.key)}**: {md_text(outcome, 500)}")
        if run.output is not None:
            shown = shown_output(run.output) or "(no output)"
            longest = max((len(m) for m in re.findall(r"`+", shown)), default=0)
            fence = "`" * max(3, longest + 1)
            parts += ["", f"{fence}text", shown, fence]
        parts.append("")
    return "\n".join(parts)
