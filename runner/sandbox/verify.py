"""Read back every control from the created container before it starts (fail closed).

``check_engine`` trusts what ``/info`` claims; engines have claimed limits they then ignored
(rootless Podman on cgroup v1), dropped ulimits, or run ``runc`` when ``runsc`` was asked.
So after ``create`` and before ``start`` the runner inspects the container and compares its
``HostConfig`` with the arguments of :func:`runner.sandbox.spec.container_kwargs`: memory,
swap, CPU, pids, /dev/shm, ulimits, read-only root, network, capabilities, privileges,
seccomp and no-new-privileges, init, runtime, tmpfs options, binds and every mount, user
and log cap. Any difference is a reason not to start it.

Podman's Docker-compatible answer differs in form (``RLIMIT_NOFILE``, capabilities listed
one by one, ``Runtime: "oci"``, bind options): :func:`mismatches` reads both forms, and for
Podman the runtime and log cap come from its own ``/libpod`` inspect.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from runner.errors import ConfigError
from runner.sandbox.seccomp import is_our_profile
from runner.sandbox.spec import parse_size

Check = Callable[[dict, dict], str | None]


def _same(field: str, key: str) -> Check:
    def check(asked: dict, host: dict) -> str | None:
        want, got = asked[key], host.get(field)
        return None if got == want else f"{field} is {got!r}, asked {want!r}"

    return check


def _ulimits(asked: dict, host: dict) -> str | None:
    got = {
        u["Name"].lower().removeprefix("rlimit_"): (u["Soft"], u["Hard"])
        for u in host.get("Ulimits") or []
    }
    for ulimit in asked["ulimits"]:
        if got.get(ulimit["Name"]) != (ulimit["Soft"], ulimit["Hard"]):
            return f"Ulimits {ulimit['Name']} is {got.get(ulimit['Name'])}, asked " + repr(
                (ulimit["Soft"], ulimit["Hard"])
            )
    return None


def _capabilities(asked: dict, host: dict, engine_caps: frozenset[str]) -> str | None:
    dropped = {cap.upper().removeprefix("CAP_") for cap in host.get("CapDrop") or []}
    if host.get("CapAdd"):
        return f"CapAdd is {host['CapAdd']!r}, asked none"
    # Docker keeps "ALL"; Podman lists each capability it would otherwise grant.
    if "ALL" in dropped or (engine_caps and engine_caps <= dropped):
        return None
    return f"CapDrop is {sorted(dropped)!r}, asked ALL"


def _security(asked: dict, host: dict) -> str | None:
    options = host.get("SecurityOpt") or []
    if not any(option.startswith("no-new-privileges") for option in options):
        return "SecurityOpt lacks no-new-privileges"
    if not any(is_our_profile(option) for option in options):
        return "SecurityOpt lacks the sandbox's seccomp profile"
    return None


def _options(text: str) -> set[str]:
    return {part for part in text.split(",") if part}


def _tmpfs(asked: dict, host: dict) -> str | None:
    got = host.get("Tmpfs") or {}
    if set(got) != set(asked["tmpfs"]):
        return f"Tmpfs mounts are {sorted(got)}, asked {sorted(asked['tmpfs'])}"
    for path, options in asked["tmpfs"].items():
        if missing := _options(options) - _options(got[path]):
            return f"Tmpfs {path} lacks {','.join(sorted(missing))}"
    return None


def _binds(asked: dict, host: dict, mounts: list[dict]) -> str | None:
    want = {(src, spec["bind"], spec["mode"]) for src, spec in asked["volumes"].items()}
    got = set()
    for bind in host.get("Binds") or []:
        src, dst, *rest = bind.split(":")
        got.add((src, dst, "ro" if "ro" in _options(rest[0] if rest else "") else "rw"))
    if got != want:
        return f"Binds are {sorted(got)}, asked {sorted(want)}"
    # Mounts also holds image VOLUMEs and API "Mounts": nothing but the binds may be there.
    extra = sorted({str(m.get("Destination")) for m in mounts} - {dst for _, dst, _ in want})
    return f"unexpected mounts {extra}" if extra else None


CHECKS: tuple[Check, ...] = (
    _same("Memory", "mem_limit"),
    _same("MemorySwap", "memswap_limit"),
    _same("NanoCpus", "nano_cpus"),
    _same("PidsLimit", "pids_limit"),
    _same("ShmSize", "shm_size"),
    _same("ReadonlyRootfs", "read_only"),
    _same("NetworkMode", "network_mode"),
    _same("Privileged", "privileged"),
    _same("Init", "init"),
    _ulimits,
    _security,
    _tmpfs,
)


def _bytes(text: str) -> int:
    try:
        return parse_size(text)
    except ConfigError:  # "0", "" or garbage: no cap
        return 0


_DECIMAL = re.compile(r"^(\d+(?:\.\d+)?)([kMGT]?)B$")


def _podman_size(text: str) -> int:
    """Podman's inspect prints sizes in decimal units to 4 digits ("1.049MB", "1MB")."""
    if match := _DECIMAL.match(text):
        return int(float(match[1]) * 1000 ** " kMGT".index(match[2] or " "))
    return _bytes(text)


def _log_cap(asked: dict, host: dict, libpod: dict | None) -> str | None:
    want = parse_size(asked["log_config"]["Config"]["max-size"])
    if libpod is not None:  # Podman keeps the cap as LogConfig.Size in its own inspect, which
        # its compatible create parses as decimal ("1m" is 1 MB): no more than asked will do
        got = (libpod.get("HostConfig") or {}).get("LogConfig", {}).get("Size") or "0"
        size = _podman_size(got)
        return None if 0 < size <= want * 1.001 else f"log max-size is {got!r}, asked {want}"
    got = ((host.get("LogConfig") or {}).get("Config") or {}).get("max-size") or "0"
    return None if _bytes(got) == want else f"log max-size is {got!r}, asked {want}"


def _runtime(asked: dict, host: dict, libpod: dict | None) -> str | None:
    want = asked["runtime"]
    got = libpod.get("OCIRuntime") if libpod is not None else host.get("Runtime")
    if want is None or got == want:
        return None
    return f"runtime is {got!r}, asked {want!r}"


def mismatches(
    asked: dict,
    attrs: dict,
    *,
    libpod: dict | None = None,
    engine_caps: frozenset[str] = frozenset(),
) -> list[str]:
    """Every control of ``asked`` (``container_kwargs``) that ``attrs`` (inspect) lacks.

    ``libpod`` is Podman's own inspect of the same container (None for Docker);
    ``engine_caps`` the capabilities Podman grants by default (for reading its CapDrop).
    """
    host = attrs.get("HostConfig") or {}
    found = [check(asked, host) for check in CHECKS]
    found.append(_capabilities(asked, host, engine_caps))
    found.append(_binds(asked, host, attrs.get("Mounts") or []))
    found.append(_log_cap(asked, host, libpod))
    found.append(_runtime(asked, host, libpod))
    user = (attrs.get("Config") or {}).get("User")
    if user != asked["user"]:
        found.append(f"User is {user!r}, asked {asked['user']!r}")
    return [problem for problem in found if problem]
