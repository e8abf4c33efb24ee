"""A small GitHub REST API server on loopback, backed by a real git repository.

Real PyGithub talks to it over HTTP (``github.Github(base_url=server.url, ...)``). It
implements only the endpoints ``runner.github`` calls, answers with the JSON shapes and
``Link`` pagination headers GitHub uses, records every call, and keeps the state a test
inspects: comments, commit statuses, labels. Trees, blobs, file contents by ref, commits,
compares and pull-request file lists come from a real git repository on disk
(``GitRepo``), so modes (symlink 120000, submodule 160000), SHAs and ancestry are git's own.
The same repository is served for ``git fetch``/``git push`` at ``<url>/<owner>/<repo>.git``
(tests/git_http.py).

Use ``with serve(ServerState(GitRepo(tmp_path / "repo"))) as server:`` in a fixture.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from git_http import is_git_request, serve_git

BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


# --------------------------------------------------------------------------- git side


@dataclass(frozen=True)
class Symlink:
    """A symlink to create in a commit (git mode 120000)."""

    target: str


@dataclass(frozen=True)
class Submodule:
    """A gitlink (submodule) entry to create in a commit (git mode 160000)."""

    sha: str = "0" * 39 + "1"


class GitRepo:
    """A real git repository that tests commit files into."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "test@example.invalid")
        self.git("config", "user.name", "Test")
        self.git("config", "commit.gpgsign", "false")
        self._tick = 0

    def git(self, *args: str, input: bytes | None = None) -> str:
        out = subprocess.run(
            ["git", *args], cwd=self.path, input=input, capture_output=True, check=True
        )
        return out.stdout.decode("utf-8", "replace")

    def git_bytes(self, *args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=self.path, capture_output=True, check=True).stdout

    def commit(
        self,
        files: dict[str, bytes | str | Symlink | Submodule | None],
        *,
        message: str = "change",
        branch: str | None = None,
        parent: str | None = None,
    ) -> str:
        """Commit ``files`` (None deletes) on top of ``parent`` (default HEAD); return the SHA.

        With ``branch`` the branch ref is moved to the new commit. Commit dates increase by
        one minute per commit so date comparisons are deterministic.
        """
        if parent is not None:
            self.git("checkout", "-q", "--detach", parent)
        for rel, content in files.items():
            self._apply(rel, content)
        self._tick += 1
        stamp = f"2026-11-01T00:{self._tick // 60:02d}:{self._tick % 60:02d}Z"
        env = {**os.environ, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}
        subprocess.run(
            ["git", "commit", "-q", "--allow-empty", "-m", message],
            cwd=self.path,
            env=env,
            check=True,
        )
        sha = self.git("rev-parse", "HEAD").strip()
        if branch is not None:
            self.git("update-ref", f"refs/heads/{branch}", sha)
        return sha

    def _apply(self, rel: str, content: bytes | str | Symlink | Submodule | None) -> None:
        target = self.path / rel
        if content is None:
            self.git("rm", "-q", "-r", "--cached", "--ignore-unmatch", rel)
            if target.is_symlink() or target.is_file():
                target.unlink()
            return
        if isinstance(content, Submodule):
            self.git("update-index", "--add", "--cacheinfo", f"160000,{content.sha},{rel}")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        if isinstance(content, Symlink):
            os.symlink(content.target, target)
        else:
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        self.git("add", "-f", rel)

    def rename(self, old: str, new: str, *, message: str = "rename") -> str:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)
        return self.commit({}, message=message)

    def checkout(self, ref: str) -> None:
        self.git("checkout", "-q", "--detach", ref)


# --------------------------------------------------------------------------- API state


@dataclass
class Pull:
    number: int
    head_sha: str
    base_sha: str
    base_ref: str = "main"
    login: str = "alice"
    user_id: int = 1001


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: object
    token: str | None


@dataclass
class ServerState:
    repo: GitRepo
    full_name: str = "org/challenges"
    tokens: dict[str, dict] = field(default_factory=lambda: {"bot-token": dict(BOT)})
    pulls: dict[int, Pull] = field(default_factory=dict)
    comments: list[dict] = field(default_factory=list)
    statuses: list[dict] = field(default_factory=list)
    labels: dict[int, list[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # HTTP codes to answer next GETs with
    truncate_trees: bool = False  # answer tree listings as GitHub does past its size limit
    next_id: int = 9000

    def add_comment(self, number: int, body: str, user: dict) -> dict:
        """Create a comment as ``user`` (a dict with login, id, type)."""
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "issue": number,
            "body": body,
            "user": dict(user),
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.comments.append(comment)
        return comment

    def comments_on(self, number: int) -> list[dict]:
        return [c for c in self.comments if c["issue"] == number]


@contextmanager
def serve(state: ServerState) -> Iterator[GitHubServer]:
    """Run a server for ``state`` for the duration of the block."""
    server = GitHubServer(state).start()
    try:
        yield server
    finally:
        server.stop()


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- HTTP server


class GitHubServer:
    """Serve ``ServerState`` as the GitHub REST API on 127.0.0.1 (random port)."""

    def __init__(self, state: ServerState):
        self.state = state
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> GitHubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def calls(self, method: str | None = None, pattern: str = "") -> list[Call]:
        """Recorded calls, optionally filtered by method and a regex on the path."""
        return [
            c
            for c in self.state.calls
            if (method is None or c.method == method) and re.search(pattern, c.path)
        ]


class _Handler(BaseHTTPRequestHandler):
    server_ref: GitHubServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK
    # add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        if is_git_request(self.path):  # git fetch/push over smart HTTP (tests/git_http.py)
            state = self.server_ref.state
            serve_git(self, state.repo.path, state.full_name, state.tokens)
            return
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        auth = self.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else None
        api = _Api(self.server_ref, token, query)
        with self.server_ref.lock:
            self.server_ref.state.calls.append(Call(method, parsed.path, query, body, token))
            try:
                status, payload, headers = api.route(
                    method, urllib.parse.unquote(parsed.path), body
                )
            except ApiError as err:
                status, payload, headers = err.status, {"message": err.message}, {}
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"/user", "user"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)", "repo"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<n>\d+)", "pull"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/pulls/(?P<n>\d+)/files", "pull_files"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/git/trees/(?P<sha>.+)", "tree"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/git/blobs/(?P<sha>[0-9a-f]{40})", "blob"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/contents/(?P<path>.+)", "contents"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/commits/(?P<sha>[^/]+)", "commit"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/compare/(?P<a>[^.]+)\.\.\.(?P<b>.+)", "compare"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/statuses/(?P<sha>[0-9a-f]{40})", "status"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)", "issue"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/comments", "comments"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/comments", "comment_create"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)", "comment_get"),
    ("PATCH", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)", "comment_edit"),
    ("GET", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/labels", "labels"),
    ("POST", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/labels", "labels_add"),
    ("DELETE", r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/labels/(?P<name>.+)", "label_del"),
]


class _Api:
    def __init__(self, server: GitHubServer, token: str | None, query: dict[str, str]):
        self.server = server
        self.state = server.state
        self.token = token
        self.query = query
        self.base = server.url

    def route(self, method: str, path: str, body: object) -> tuple[int, object, dict]:
        user = self.state.tokens.get(self.token or "")
        if user is None:
            raise ApiError(401, "Bad credentials")
        if method == "GET" and self.state.fail_next:
            raise ApiError(self.state.fail_next.pop(0), "Server Error (injected)")
        for verb, pattern, name in ROUTES:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                args = match.groupdict()
                if "repo" in args and args.pop("repo") != self.state.full_name:
                    raise ApiError(404, "Not Found")
                result = getattr(self, name)(user=user, body=body, **args)
                return result if isinstance(result, tuple) else (200, result, {})
        raise ApiError(404, f"Not Found: {method} {path}")

    # ---- helpers
    def repo_url(self) -> str:
        return f"{self.base}/repos/{self.state.full_name}"

    def git(self, *args: str) -> str:
        try:
            return self.state.repo.git(*args)
        except subprocess.CalledProcessError as err:
            raise ApiError(404, "No commit found for the ref") from err

    def resolve(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()

    def page(self, items: list, path: str) -> tuple[int, list, dict]:
        """Slice ``items`` by per_page/page and add GitHub's Link header."""
        per_page = min(int(self.query.get("per_page", 30)), 100)
        page = int(self.query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        links = []

        def url(p: int) -> str:
            q = {**self.query, "per_page": str(per_page), "page": str(p)}
            return f"{self.base}{path}?{urllib.parse.urlencode(q)}"

        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, items[(page - 1) * per_page : page * per_page], headers

    def pull_or_404(self, n: str) -> Pull:
        pull = self.state.pulls.get(int(n))
        if pull is None:
            raise ApiError(404, "Not Found")
        return pull

    # ---- endpoints
    def user(self, user: dict, body: object) -> dict:
        if user.get("type") == "Bot":
            raise ApiError(403, "Resource not accessible by integration")
        return {**user, "url": f"{self.base}/users/{user['login']}"}

    def repo(self, user: dict, body: object) -> dict:
        owner, name = self.state.full_name.split("/")
        return {
            "id": 1,
            "name": name,
            "full_name": self.state.full_name,
            "owner": {"login": owner, "id": 2, "type": "Organization"},
            "url": self.repo_url(),
            "default_branch": "main",
        }

    def pull(self, user: dict, body: object, n: str) -> dict:
        pull = self.pull_or_404(n)
        return {
            "number": pull.number,
            "url": f"{self.repo_url()}/pulls/{pull.number}",
            "issue_url": f"{self.repo_url()}/issues/{pull.number}",
            "state": "open",
            "user": {"login": pull.login, "id": pull.user_id, "type": "User"},
            "head": {"sha": pull.head_sha, "ref": f"pr-{pull.number}"},
            "base": {"sha": pull.base_sha, "ref": pull.base_ref},
        }

    def pull_files(self, user: dict, body: object, n: str) -> tuple[int, list, dict]:
        pull = self.pull_or_404(n)
        base = self.git("merge-base", pull.base_sha, pull.head_sha).strip()
        out = self.git("diff", "-M", "--name-status", "-z", base, pull.head_sha)
        items = _parse_name_status(out)
        return self.page(items, f"/repos/{self.state.full_name}/pulls/{n}/files")

    def tree(self, user: dict, body: object, sha: str) -> dict:
        obj = self.git("rev-parse", "--verify", f"{sha}^{{tree}}").strip()
        recursive = self.query.get("recursive") not in (None, "", "0", "false")
        args = ["ls-tree", "-l", "-z"] + (["-r", "-t"] if recursive else []) + [obj]
        entries = []
        for line in self.git(*args).split("\0"):
            if not line:
                continue
            meta, path = line.split("\t", 1)
            mode, kind, osha, size = meta.split()
            entry = {"path": path, "mode": mode, "type": kind, "sha": osha}
            if kind == "blob":
                entry["size"] = int(size)
            entries.append(entry)
        return {
            "sha": obj,
            "url": f"{self.repo_url()}/git/trees/{obj}",
            "tree": entries[:1] if self.state.truncate_trees else entries,
            "truncated": self.state.truncate_trees,
        }

    def blob(self, user: dict, body: object, sha: str) -> dict:
        if self.git("cat-file", "-t", sha).strip() != "blob":
            raise ApiError(404, "Not Found")
        data = self.state.repo.git_bytes("cat-file", "blob", sha)
        return {
            "sha": sha,
            "size": len(data),
            "encoding": "base64",
            "content": base64.encodebytes(data).decode(),
            "url": f"{self.repo_url()}/git/blobs/{sha}",
        }

    def contents(self, user: dict, body: object, path: str) -> dict:
        ref = self.query.get("ref", "main")
        commit = self.resolve(ref)
        if not commit:
            raise ApiError(404, f"No commit found for the ref {ref}")
        line = self.git("ls-tree", "-l", commit, "--", path).strip()
        if not line:
            raise ApiError(404, "Not Found")
        meta, _ = line.split("\t", 1)
        mode, kind, osha, _size = meta.split()
        if kind != "blob" or mode == "120000":
            raise ApiError(404, "Not a regular file (this server serves files only)")
        data = self.state.repo.git_bytes("cat-file", "blob", osha)
        return {
            "type": "file",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": osha,
            "size": len(data),
            "encoding": "base64",
            "content": base64.encodebytes(data).decode(),
            "url": f"{self.repo_url()}/contents/{path}?ref={ref}",
        }

    def commit(self, user: dict, body: object, sha: str) -> dict:
        full = self.resolve(sha)
        if not full:
            raise ApiError(422, f"No commit found for SHA: {sha}")
        date = self.git("show", "-s", "--format=%cI", full).strip()
        return {
            "sha": full,
            "url": f"{self.repo_url()}/commits/{full}",
            "commit": {
                "message": self.git("show", "-s", "--format=%s", full).strip(),
                "committer": {"name": "Test", "email": "t@example.invalid", "date": date},
                "author": {"name": "Test", "email": "t@example.invalid", "date": date},
            },
        }

    def compare(self, user: dict, body: object, a: str, b: str) -> dict:
        base, head = self.resolve(a), self.resolve(b)
        if not base or not head:
            raise ApiError(404, "Not Found")
        ahead = int(self.git("rev-list", "--count", f"{base}..{head}").strip())
        behind = int(self.git("rev-list", "--count", f"{head}..{base}").strip())
        status = (
            "identical"
            if not ahead and not behind
            else "ahead"
            if not behind
            else "behind"
            if not ahead
            else "diverged"
        )
        return {
            "url": f"{self.repo_url()}/compare/{a}...{b}",
            "status": status,
            "ahead_by": ahead,
            "behind_by": behind,
            "total_commits": ahead,
            "commits": [],
            "files": [],
        }

    def status(self, user: dict, body: dict, sha: str) -> tuple[int, dict, dict]:
        record = {"sha": sha, "creator": user, **body, "id": len(self.state.statuses) + 1}
        self.state.statuses.append(record)
        return 201, {**record, "url": f"{self.repo_url()}/statuses/{sha}"}, {}

    def issue(self, user: dict, body: object, n: str) -> dict:
        pull = self.pull_or_404(n)
        return {
            "number": pull.number,
            "url": f"{self.repo_url()}/issues/{pull.number}",
            "state": "open",
            "user": {"login": pull.login, "id": pull.user_id, "type": "User"},
            "labels": [{"name": name} for name in self.state.labels.get(pull.number, [])],
            "pull_request": {"url": f"{self.repo_url()}/pulls/{pull.number}"},
        }

    def comment_json(self, comment: dict) -> dict:
        return {
            "id": comment["id"],
            "body": comment["body"],
            "user": comment["user"],
            "created_at": comment["created_at"],
            "url": f"{self.repo_url()}/issues/comments/{comment['id']}",
            "html_url": f"https://github.invalid/{self.state.full_name}/pull/{comment['issue']}",
        }

    def comments(self, user: dict, body: object, n: str) -> tuple[int, list, dict]:
        self.pull_or_404(n)
        items = [self.comment_json(c) for c in self.state.comments_on(int(n))]
        return self.page(items, f"/repos/{self.state.full_name}/issues/{n}/comments")

    def comment_create(self, user: dict, body: dict, n: str) -> tuple[int, dict, dict]:
        self.pull_or_404(n)
        _check_body(body["body"])
        return 201, self.comment_json(self.state.add_comment(int(n), body["body"], user)), {}

    def find_comment(self, id: str) -> dict:
        comment = next((c for c in self.state.comments if c["id"] == int(id)), None)
        if comment is None:
            raise ApiError(404, "Not Found")
        return comment

    def comment_get(self, user: dict, body: object, id: str) -> dict:
        return self.comment_json(self.find_comment(id))

    def comment_edit(self, user: dict, body: dict, id: str) -> dict:
        comment = self.find_comment(id)
        if comment["user"]["login"] != user["login"]:
            raise ApiError(403, "You can only edit your own comments")
        _check_body(body["body"])
        comment["body"] = body["body"]
        return self.comment_json(comment)

    def labels(self, user: dict, body: object, n: str) -> list:
        return [{"name": x} for x in self.state.labels.get(int(n), [])]

    def labels_add(self, user: dict, body: object, n: str) -> list:
        names = body["labels"] if isinstance(body, dict) else body
        current = self.state.labels.setdefault(int(n), [])
        current.extend(x for x in names if x not in current)
        return [{"name": x} for x in current]

    def label_del(self, user: dict, body: object, n: str, name: str) -> list:
        current = self.state.labels.get(int(n), [])
        if name not in current:
            raise ApiError(404, "Label does not exist")
        current.remove(name)
        return [{"name": x} for x in current]


def _check_body(body: str) -> None:
    """GitHub refuses bodies over 65,536 characters (counted here as UTF-16 units)."""
    if len(body.encode("utf-16-le")) // 2 > 65536:
        raise ApiError(422, "Validation Failed: body is too long (maximum is 65536 characters)")


_STATUS = {
    "A": "added",
    "M": "modified",
    "D": "removed",
    "R": "renamed",
    "C": "copied",
    "T": "changed",
}


def _parse_name_status(out: str) -> list[dict]:
    parts = [p for p in out.split("\0") if p]
    items, i = [], 0
    while i < len(parts):
        code = parts[i]
        status = _STATUS[code[0]]
        if code[0] in "RC":
            old, new = parts[i + 1], parts[i + 2]
            items.append({"filename": new, "previous_filename": old, "status": status})
            i += 3
        else:
            items.append({"filename": parts[i + 1], "status": status})
            i += 2
    for item in items:
        item.update({"sha": "0" * 40, "additions": 0, "deletions": 0, "changes": 0})
    return items


def client_for(server: GitHubServer, token: str = "bot-token"):  # noqa: S107 - test token
    """A ``runner.github.client.GitHubClient`` on this server (no backoff, no pacing)."""
    from runner.github.client import GitHubClient

    return GitHubClient(server.url, token, server.state.full_name, backoff=0, pace=False)
