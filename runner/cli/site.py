"""``challenge-runner site``: build the leaderboard site, or preview it on this machine."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click

from runner.cli.common import root_option


@click.group()
def site() -> None:
    """Build or preview the static leaderboard site (MkDocs Material, see mkdocs.yml)."""


def _output_option(func):
    return click.option(
        "--output",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder the site is written to (default: ROOT/public).",
    )(func)


@site.command()
@root_option
@_output_option
@click.option(
    "--no-strict", is_flag=True, help="Build even when MkDocs warns (CI always builds strict)."
)
def build(root: Path, output: Path | None, no_strict: bool) -> int:
    """Build the site from challenges/, submissions/ and results/ with ROOT/mkdocs.yml.

    Open OUTPUT/index.html in a browser, or run `challenge-runner site serve`. Nothing on
    the site is fetched from another host.
    """
    from runner.site import build_site

    target = build_site(root, output or root / "public", strict=not no_strict)
    click.echo(f"site built in {target}")
    return 0


def serve_folder(folder: Path, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``folder`` (quiet), started in a daemon thread."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@site.command()
@root_option
@_output_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def serve(root: Path, output: Path | None, host: str, port: int) -> int:
    """Build the site (not strict) and serve it at http://HOST:PORT/ until Ctrl-C."""
    from runner.site import build_site

    target = build_site(root, output or root / "public", strict=False)
    server = serve_folder(target, host, port)
    click.echo(f"serving {target} at http://{host}:{server.server_port}/ (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
