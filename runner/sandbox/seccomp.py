"""The sandbox's own seccomp profile, in the form each engine accepts (DESIGN §5).

``seccomp.json`` (package data) is a whitelist derived from the containers-common default
(the profile Podman ships, itself derived from Docker's): unknown syscalls fail with ENOSYS,
and it also denies (EPERM) what those defaults allow but no scoring job needs: io_uring
(``io_uring_setup`` is allowed by Docker 20.10's default), sockets other than AF_UNIX,
AF_INET, AF_INET6 and AF_NETLINK (so no AF_VSOCK to the hypervisor), new namespaces
(``unshare``, ``setns``, ``clone`` with a CLONE_NEW* flag; ``clone3`` gets ENOSYS so libc
falls back to ``clone``), mounts, keyrings, ptrace and cross-process memory access, bpf,
perf, userfaultfd, handles, clocks, modules and personality changes other than the usual.

Docker wants the profile inline (``seccomp=<json>``); Podman 4.3's Docker-compatible API
wants a path on the engine's host (``seccomp=/path``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

PROFILE_PATH = Path(__file__).with_name("seccomp.json")


@functools.cache
def profile() -> dict:
    """The profile as data (read once)."""
    return json.loads(PROFILE_PATH.read_text(encoding="utf-8"))


def security_opt(engine_kind: str) -> str:
    """``seccomp=...`` for ``engine_kind`` ("docker": inline JSON, "podman": a path)."""
    if engine_kind == "podman":
        return f"seccomp={PROFILE_PATH}"
    return "seccomp=" + json.dumps(profile(), separators=(",", ":"))


def is_our_profile(option: str) -> bool:
    """True when a ``SecurityOpt`` entry read back from the engine is this profile."""
    if not option.startswith("seccomp="):
        return False
    value = option.removeprefix("seccomp=")
    if value == str(PROFILE_PATH):
        return True
    try:
        return json.loads(value) == profile()
    except ValueError:
        return False
