"""Git's smart HTTP protocol for tests/github_server.py, through ``git http-backend``.

``http://127.0.0.1:PORT/<owner>/<repo>.git`` serves the server's ``GitRepo`` the way
github.com serves a repository: anyone may fetch (a public repository), a push needs HTTP
basic auth whose password is a token the server knows (``x-access-token:<token>``, as
actions/checkout and the record job send it). Hooks in the repository apply, so a
``pre-receive`` hook that exits non-zero stands in for branch protection.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import urllib.parse
from http.server import BaseHTTPRequestHandler
from pathlib import Path

# <owner>/<repo>[.git]/<smart-HTTP endpoint>: actions/checkout leaves the .git off.
GIT_PATH = re.compile(
    r"^/(?P<repo>[^/]+/[^/]+?)(?:\.git)?(?P<rest>/info/refs|/git-upload-pack|/git-receive-pack)$"
)


def is_git_request(path: str) -> bool:
    return GIT_PATH.match(urllib.parse.urlsplit(path).path) is not None


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _login(header: str, tokens: dict[str, dict]) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    _, _, password = base64.b64decode(value).decode("utf-8", "replace").partition(":")
    user = tokens.get(password)
    return None if user is None else user["login"]


def _send(handler: BaseHTTPRequestHandler, status: int, headers: dict, body: bytes) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve_git(
    handler: BaseHTTPRequestHandler, repo: Path, full_name: str, tokens: dict[str, dict]
) -> None:
    """Answer one smart-HTTP request for ``repo`` (a non-bare repository's work tree)."""
    url = urllib.parse.urlsplit(handler.path)
    match = GIT_PATH.match(url.path)
    body = _read_body(handler)
    if match is None or match["repo"] != full_name:
        _send(handler, 404, {}, b"Repository not found.\n")
        return
    login = _login(handler.headers.get("Authorization", ""), tokens)
    if "git-receive-pack" in url.path + url.query and login is None:
        _send(handler, 401, {"WWW-Authenticate": 'Basic realm="GitHub"'}, b"")
        return
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(repo),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": "/.git" + match["rest"],
        "REQUEST_METHOD": handler.command,
        "QUERY_STRING": url.query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
        "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_USER": login or "",
    }
    out = subprocess.run(
        ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
    )
    head, _, payload = out.stdout.partition(b"\r\n\r\n")
    status, headers = 200, {}
    for line in head.decode("latin-1").split("\r\n"):
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.split()[0])
        elif key:
            headers[key] = value.strip()
    _send(handler, status, headers, payload)
