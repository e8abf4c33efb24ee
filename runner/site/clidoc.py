"""The CLI reference page, generated from the click commands themselves.

``python -m runner.site.clidoc > site/cli.md`` rewrites it; a test fails when the file is
not current, so the reference can never drift from the code.
"""

from __future__ import annotations

import sys

import click

from runner.cli import cli

WIDTH = 100  # fixed, so the page does not depend on the terminal that generated it

HEADER = """\
# CLI reference

Every command of `challenge-runner` (also `python -m runner`), as its `--help` prints it.
This page is generated: run `python -m runner.site.clidoc > site/cli.md` after changing a
command.
"""


def _help(
    command: click.Command, path: list[str], parent: click.Context | None
) -> tuple[str, click.Context]:
    settings = {**command.context_settings, "terminal_width": WIDTH, "max_content_width": WIDTH}
    ctx = click.Context(command, info_name=path[-1], parent=parent, **settings)
    return command.get_help(ctx), ctx


def _sections(command: click.Command, path: list[str], parent: click.Context | None) -> list[str]:
    text, ctx = _help(command, path, parent)
    level = "#" * min(len(path) + 1, 4)
    out = [f"{level} `{' '.join(path)}`\n", f"```text\n{text}\n```\n"]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _sections(sub, [*path, name], ctx)
    return out


def reference() -> str:
    """The whole Markdown page."""
    return HEADER + "\n" + "\n".join(_sections(cli, ["challenge-runner"], None))


def main() -> int:
    sys.stdout.write(reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
