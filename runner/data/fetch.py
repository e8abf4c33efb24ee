"""Downloading hidden data over HTTPS, with an optional bearer token.

Only ``https://`` is accepted (tests may allow plain ``http://`` to a loopback address).
The token is sent to the named host only: a redirect to another host or scheme drops it,
and a redirect to a non-https address is refused. Messages show the address without its
query string or credentials, which often carry signatures.
"""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from runner import __version__
from runner.errors import DataError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_CHUNK = 1 << 20


def display_url(url: str) -> str:
    """The address without credentials, query or fragment (safe to print and log)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_url(url: str, *, allow_insecure_loopback: bool = False) -> None:
    """Refuse anything but https (or http to loopback when explicitly allowed)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if allow_insecure_loopback and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise DataError(
        f"{display_url(url)}: hidden data can only be downloaded over https:// "
        "(the data and the token must not travel in clear); fix data.hidden.source"
    )


def download(
    url: str,
    target: Path,
    *,
    token: str | None,
    token_env: str | None,
    max_bytes: int,
    timeout: float,
    allow_insecure_loopback: bool = False,
) -> str:
    """Save ``url`` to ``target`` and return the sha256 of its bytes.

    ``timeout`` bounds the whole download, not just each read, so a server that trickles
    bytes cannot hold the runner forever. ``token_env`` names the token's variable in
    messages about refused access.
    """
    check_url(url, allow_insecure_loopback=allow_insecure_loopback)
    # check_url above admits only https (or loopback http in tests).
    agent = {"User-Agent": f"challenge-runner/{__version__}"}
    request = urllib.request.Request(url, headers=agent)  # noqa: S310
    if token:
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_Redirects(allow_insecure_loopback, token))
    shown = display_url(url)
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=min(timeout, 60.0)) as response:
            _check_length(response.headers.get("Content-Length"), max_bytes, shown)
            return _save(response, target, max_bytes, deadline, shown)
    except urllib.error.HTTPError as err:
        raise DataError(_http_message(shown, err.code, err.reason, token, token_env)) from err
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise DataError(
            f"cannot download {shown}: {reason}; check the address and the network"
        ) from err


def _check_length(header: str | None, max_bytes: int, shown: str) -> None:
    if header and header.isdigit() and int(header) > max_bytes:
        raise DataError(
            f"{shown} is {int(header)} bytes, over the download limit of {max_bytes} bytes"
        )


def _save(response: Any, target: Path, max_bytes: int, deadline: float, shown: str) -> str:
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as sink:
        # read1 returns what has arrived, so the deadline is checked even while a slow
        # server trickles bytes (read(n) would wait for all n).
        while chunk := response.read1(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise DataError(f"{shown} sent more than the download limit of {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise DataError(f"downloading {shown} took too long; try again later")
            digest.update(chunk)
            sink.write(chunk)
    return digest.hexdigest()


def _http_message(
    shown: str, code: int, reason: str, token: str | None, token_env: str | None
) -> str:
    if code in (401, 403):
        if token:
            fix = f"the token in {token_env} was refused: check that it is valid and can read it"
        else:
            fix = "no token was sent: add token_env to data.hidden and set that variable"
        return f"the server refused access to {shown} (HTTP {code} {reason}); {fix}"
    if code == 404:
        return f"{shown} was not found (HTTP 404); check data.hidden.source in challenge.yaml"
    return f"downloading {shown} failed (HTTP {code} {reason}); try again later"


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to https only, and keep the token only on the same origin."""

    def __init__(self, allow_insecure_loopback: bool, token: str | None):
        self.allow_insecure_loopback = allow_insecure_loopback
        self.token = token

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(newurl, allow_insecure_loopback=self.allow_insecure_loopback)
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and self.token and _origin(newurl) == _origin(req.full_url):
            new.add_unredirected_header("Authorization", f"Bearer {self.token}")
        return new


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname, parts.port
