"""``runner.data.fetch`` (through ``open_hidden``): https sources, bearer tokens, redirects,
size caps and timeouts, against a real http.server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from pathlib import Path
from typing import ClassVar

import pyrage
import pytest
from hidden_data import fails_with, good_members, listing, make_challenge, tar_bytes
from pyrage import x25519

from runner.data import open_hidden
from runner.errors import DataError
from runner.models import Challenge

TOKEN = "tok-3f9a"


class Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    log: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self):
        self.log.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/redirect-same"):
            return self.reply(302, b"", {"Location": "/private.age"})
        if self.path.startswith("/redirect-other"):
            port = self.server.server_address[1]
            return self.reply(302, b"", {"Location": f"http://localhost:{port}/private.age"})
        if self.path.startswith("/slow"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(50):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the runner gave up, as it should
            return None
        if self.path.startswith("/private") and self.headers.get("Authorization") != (
            f"Bearer {TOKEN}"
        ):
            return self.reply(401, b"no", {})
        name = self.path.split("?")[0].lstrip("/")
        if name not in self.files:
            return self.reply(404, b"missing", {})
        return self.reply(200, self.files[name], {})

    def reply(self, code: int, body: bytes, headers: dict[str, str]):
        self.send_response(code)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, keys):
    Handler.files, Handler.log = {}, []
    plain = tar_bytes(good_members(), compress=True)
    Handler.files["private.age"] = pyrage.encrypt(plain, [x25519.Recipient.from_str(keys[1])])
    Handler.files["public.age"] = Handler.files["private.age"]
    Handler.files["plain.tar.gz"] = plain
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def url_challenge(tmp_path: Path, url: str, name: str = "private.age", **extra) -> Challenge:
    spec = {"sha256": hashlib.sha256(Handler.files.get(name, b"")).hexdigest(), **extra}
    return make_challenge(tmp_path / "c", source=url, key_env="KEY", **spec)


def url_sha(name: str) -> str:
    return hashlib.sha256(Handler.files[name]).hexdigest()


# ---------------------------------------------------------------- https sources


def test_download_with_bearer_token_then_cached(server, tmp_path, keys, data_cache):
    challenge = url_challenge(tmp_path, f"{server}/private.age", token_env="TOKEN")
    env = {"KEY": keys[0], "TOKEN": TOKEN}
    lines = []
    open_kw = {"cache_dir": data_cache, "allow_insecure_loopback": True, "progress": lines.append}
    data = open_hidden(challenge, env=env, **open_kw)
    assert data.truth.read_bytes() == b"id,y\n1,0\n"
    assert Handler.log == [("/private.age", f"Bearer {TOKEN}")]
    assert lines == [f"downloading {server}/private.age", "decrypting download", "unpacking"]
    assert open_hidden(challenge, env={}, **open_kw) == data  # neither key nor token
    assert len(Handler.log) == 1  # the second call made no request


def test_http_errors(server, tmp_path, keys, data_cache):
    kw = {"cache_dir": data_cache, "allow_insecure_loopback": True}
    anon = url_challenge(tmp_path, f"{server}/private.age?sig=abc")
    with pytest.raises(DataError) as err:
        open_hidden(anon, env={"KEY": keys[0]}, **kw)
    assert err.value.message == (
        f"the server refused access to {server}/private.age (HTTP 401 Unauthorized); no token "
        "was sent: add token_env to data.hidden and set that variable"
    )
    bad = url_challenge(tmp_path, f"{server}/private.age", token_env="TOKEN")
    with fails_with("the token in TOKEN was refused"):
        open_hidden(bad, env={"KEY": keys[0], "TOKEN": "wrong"}, **kw)
    missing = url_challenge(tmp_path, f"{server}/gone.age")
    with pytest.raises(DataError) as err:
        open_hidden(missing, env={"KEY": keys[0]}, **kw)
    assert err.value.message == (
        f"{server}/gone.age was not found (HTTP 404); check data.hidden.source in challenge.yaml"
    )
    with fails_with("the environment variable TOKEN (data.hidden.token_env) is not set"):
        open_hidden(bad, env={"KEY": keys[0]}, **kw)
    assert list(data_cache.iterdir()) == []


def test_redirects_keep_the_token_on_the_same_origin_only(server, tmp_path, keys, data_cache):
    kw = {"cache_dir": data_cache, "allow_insecure_loopback": True}
    env = {"KEY": keys[0], "TOKEN": TOKEN}
    same = url_challenge(tmp_path, f"{server}/redirect-same", token_env="TOKEN")
    same = make_challenge(same.root, **{**vars(same.hidden), "sha256": url_sha("private.age")})
    assert open_hidden(same, env=env, **kw).truth.read_bytes() == b"id,y\n1,0\n"
    assert Handler.log == [
        ("/redirect-same", f"Bearer {TOKEN}"),
        ("/private.age", f"Bearer {TOKEN}"),
    ]
    other = make_challenge(same.root, **{**vars(same.hidden), "source": f"{server}/redirect-other"})
    Handler.log.clear()
    with fails_with("HTTP 401"):
        open_hidden(other, env=env, cache_dir=tmp_path / "cache2", allow_insecure_loopback=True)
    assert Handler.log == [("/redirect-other", f"Bearer {TOKEN}"), ("/private.age", None)]


def test_only_https_in_production(server, tmp_path, keys, data_cache):
    challenge = url_challenge(tmp_path, f"{server}/public.age")
    with pytest.raises(DataError) as err:
        open_hidden(challenge, cache_dir=data_cache, env={"KEY": keys[0]})
    assert err.value.message == (
        f"{server}/public.age: hidden data can only be downloaded over https:// (the data and "
        "the token must not travel in clear); fix data.hidden.source"
    )
    assert Handler.log == []
    loose = {"cache_dir": data_cache, "env": {"KEY": keys[0]}, "allow_insecure_loopback": True}
    assert open_hidden(challenge, **loose).sha256 == url_sha("private.age")
    remote = url_challenge(tmp_path, "http://example.org/public.age")
    with fails_with("can only be downloaded over https://"):
        open_hidden(remote, **loose)


def test_download_sha_mismatch_size_cap_and_timeout(server, tmp_path, keys, data_cache):
    kw = {"cache_dir": data_cache, "allow_insecure_loopback": True}
    env = {"KEY": keys[0]}
    wrong = url_challenge(tmp_path, f"{server}/public.age", sha256="cd" * 32)
    with fails_with(f"says {'cd' * 32} but the file has {url_sha('private.age')}") as err:
        open_hidden(wrong, env=env, **kw)
    assert err.value.path == f"{server}/public.age"
    unpinned = make_challenge(tmp_path / "c", source=f"{server}/public.age", key_env="KEY")
    with fails_with(f"sha256 is {url_sha('private.age')}: add it"):
        open_hidden(unpinned, env=env, **kw)
    size = len(Handler.files["private.age"])
    capped = url_challenge(tmp_path, f"{server}/public.age")
    with fails_with(f"is {size} bytes, over the download limit of 100 bytes"):
        open_hidden(capped, env=env, max_bytes=100, **kw)
    slow = url_challenge(tmp_path, f"{server}/slow")
    started = time.monotonic()
    with pytest.raises(DataError) as err:
        open_hidden(slow, env=env, download_timeout=0.3, **kw)
    assert err.value.message == f"downloading {server}/slow took too long; try again later"
    # Cut off long before the server's 5 s of trickling ends (the bound is loose on purpose:
    # it proves the deadline covers the whole download, not each read, even on a busy machine).
    assert time.monotonic() - started < 4
    assert list(data_cache.iterdir()) == []


def test_plain_tar_over_https_needs_no_key(server, tmp_path, data_cache):
    challenge = url_challenge(tmp_path, f"{server}/plain.tar.gz", name="plain.tar.gz")
    data = open_hidden(challenge, cache_dir=data_cache, env={}, allow_insecure_loopback=True)
    assert data.sha256 == url_sha("plain.tar.gz")
    assert listing(data.inputs) == ["test.csv"]


def test_unreachable_server(tmp_path, data_cache):
    challenge = make_challenge(tmp_path / "c", source="http://127.0.0.1:9/x.age", sha256="0" * 64)
    with pytest.raises(DataError, match=r"cannot download http://127.0.0.1:9/x.age: .*refused"):
        open_hidden(challenge, cache_dir=data_cache, env={}, allow_insecure_loopback=True)
