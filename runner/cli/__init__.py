"""The ``challenge-runner`` command line.

Commands live one module each under ``runner.cli``; ``COMMANDS`` maps a command name to
``module:attribute`` and its one-line help, so ``--help`` lists everything without
importing pandas, docker or GitHub (start-up stays fast) and a command's module is imported
only when it runs.

``main`` is the one error handler: a ``RunnerError`` prints its message and exits 1, a bug
prints a short note, saves the traceback to a log of its own and exits 3 (``runner.cli.crash``
says where the traceback goes, in GitHub Actions too).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

from runner import __version__
from runner.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USER, RunnerError

# name -> (module:attribute, one-line help). Keep sorted by name.
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("runner.cli.data:data", "Make keys and encrypted hidden-data archives."),
    "detail": ("runner.cli.detail:detail", "Print a record's sealed maintainer detail."),
    "evaluate": ("runner.cli.evaluate:evaluate", "Evaluate one submission and record its result."),
    "import": ("runner.cli.importer:import_", "Import a challenge from EvalAI or Codabench."),
    "leaderboard": ("runner.cli.leaderboard:leaderboard", "Print a leaderboard (table/JSON/CSV)."),
    "metrics": ("runner.cli.metrics:metrics", "List the metrics challenges may use."),
    "plan": ("runner.cli.plan:plan", "Print a JSON matrix of submissions needing evaluation."),
    "pr": ("runner.cli.pr:pr", "Pull-request workflow steps (prepare ... report)."),
    "reveal": ("runner.cli.reveal:reveal", "Make private scores clear after the reveal."),
    "run": (
        "runner.cli.run:run",
        "Evaluate every submission without a current record; build the site.",
    ),
    "schema": ("runner.cli.schema:schema", "Print a JSON Schema (challenge, submission, result)."),
    "site": ("runner.cli.site:site", "Build or preview the static leaderboard site."),
    "submissions": (
        "runner.cli.submissions:submissions",
        "List a participant's or team's evaluations and which count.",
    ),
    "validate": ("runner.cli.validate:validate", "Validate challenges, manifests and teams."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="challenge-runner")
def cli() -> None:
    """Run a machine-learning challenge from a Git repository.

    Challenges are files under challenges/, submissions are manifests under
    submissions/<challenge>/<login>/, results are JSON records under results/.
    Run a command with --help for its options.
    """


def _stderr(text: str) -> None:
    click.echo(text, err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 user error, 3 internal error)."""
    try:
        result = cli.main(args=argv, prog_name="challenge-runner", standalone_mode=False)
    except click.exceptions.Exit as stop:
        return stop.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_USER
    except click.ClickException as err:
        err.show()
        return EXIT_USER if err.exit_code == 2 else err.exit_code
    except RunnerError as err:
        click.echo(f"error: {err}", err=True)
        return err.exit_code
    except Exception as err:  # the one place a bug is caught: report it, keep the traceback
        from runner.cli import crash

        args = sys.argv[1:] if argv is None else argv
        crash.report(err, traceback.format_exc(), args, os.environ, _stderr)
        return EXIT_INTERNAL
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
