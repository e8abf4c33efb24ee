"""The limits the kernel really applies to a started container, read from its cgroup files.

``verify.py`` compares what the engine recorded; this reads what the kernel enforces: the
container's first process (``State.Pid``, seen from the runner's host) names its cgroups in
``/proc/<pid>/cgroup``, and their files hold the memory, memory+swap, pids and CPU limits;
under gVisor its arguments say whether the seccomp profile is applied.
Both cgroup v1 (one hierarchy per controller) and v2 (one unified tree) are read. Where the
runner cannot see the process (a remote engine, a runner in its own PID namespace, or a
container that already exited), nothing is read and None is returned: the read-back of
``verify.py`` still holds.
"""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PAGE = 4096  # the kernel rounds memory limits down to whole pages
UNLIMITED = 1 << 62  # v1 prints 9223372036854771712 for "no limit"


def _groups(pid: int, proc: Path) -> dict[str, str] | None:
    """Controller -> cgroup path of ``pid`` ("" keys the v2 unified tree)."""
    try:
        text = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return None
    groups = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


def _number(path: Path) -> int | None:
    try:
        text = path.read_text().split()[0]
    except (OSError, IndexError):
        return None
    return UNLIMITED if text == "max" else int(text)


def _cpus(quota: int | None, period: int | None) -> int | None:
    """CPU quota in nano-CPUs, like ``nano_cpus`` (-1 or "max" is no limit)."""
    if quota is None or not period:
        return None
    return UNLIMITED if quota < 0 or quota == UNLIMITED else quota * 10**9 // period


def _v1(groups: dict[str, str], root: Path) -> dict[str, int | None]:
    memory = root / "memory" / groups.get("memory", "/").lstrip("/")
    cpu = root / "cpu" / groups.get("cpu", "/").lstrip("/")
    quota, period = _number(cpu / "cpu.cfs_quota_us"), _number(cpu / "cpu.cfs_period_us")
    return {
        "memory": _number(memory / "memory.limit_in_bytes"),
        "memory+swap": _number(memory / "memory.memsw.limit_in_bytes"),
        "pids": _number(root / "pids" / groups.get("pids", "/").lstrip("/") / "pids.max"),
        "nano_cpus": _cpus(quota, period),
    }


def _v2(path: str, root: Path) -> dict[str, int | None]:
    group = root / path.lstrip("/")
    memory, swap = _number(group / "memory.max"), _number(group / "memory.swap.max")
    try:
        quota, period = (group / "cpu.max").read_text().split()
        cpus = _cpus(UNLIMITED if quota == "max" else int(quota), int(period))
    except (OSError, ValueError):
        cpus = None
    return {
        "memory": memory,
        "memory+swap": memory + swap if memory is not None and swap is not None else None,
        "pids": _number(group / "pids.max"),
        "nano_cpus": cpus,
    }


def applied_limits(
    pid: int, proc: Path = Path("/proc"), root: Path = CGROUP_ROOT
) -> dict[str, int | None] | None:
    """The limits on ``pid``'s cgroups, or None where the runner cannot see them."""
    groups = _groups(pid, proc) if pid > 0 else None
    if groups is None or set(groups.values()) == {"/"}:  # another cgroup namespace: blind
        return None
    limits = _v1(groups, root) if "memory" in groups else _v2(groups.get("", "/"), root)
    # A file that cannot be read: the process (and its cgroup) may be gone already.
    return None if None in limits.values() else limits


def gvisor_problems(pid: int, proc: Path = Path("/proc")) -> list[str]:
    """Under gVisor the container's first process is ``runsc-sandbox``, whose arguments must
    hold ``--oci-seccomp=true`` (runsc passes its flags on in that form): without it gVisor
    ignores the seccomp profile that inspect reports. Podman's API shows no runtime flags,
    so this is where they are checked. Empty for other processes and where none is seen."""
    try:
        args = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
    if args[0] != b"runsc-sandbox" or b"--oci-seccomp=true" in args:
        return []
    return ["gVisor runs without --oci-seccomp (it ignores the seccomp profile)"]


def namespace_problems(conmon_pid: int, namespace: Path) -> list[str]:
    """Rootless Podman: the container's mounts were made in its conmon's mount namespace,
    which must be ``namespace``, where the runner mounted /output's tmpfs (else the container
    wrote beside the tmpfs, uncapped, or could not write at all)."""
    try:
        engine_ns = os.readlink(f"/proc/{conmon_pid}/ns/mnt") if conmon_pid > 0 else "none"
        ours = os.readlink(namespace)
    except OSError as err:
        engine_ns, ours = f"unreadable ({err.strerror})", "?"
    if engine_ns == ours:
        return []
    return [
        f"/output's tmpfs is not where the engine mounts from (its conmon is in {engine_ns}, "
        f"the tmpfs in {ours}): run the runner as the engine's user with its XDG_RUNTIME_DIR"
    ]


def live_mismatches(asked: dict, applied: dict[str, int | None]) -> list[str]:
    """What the kernel enforces that differs from ``asked`` (``container_kwargs``)."""
    want = {
        "memory": asked["mem_limit"],
        "memory+swap": asked["memswap_limit"],
        "pids": asked["pids_limit"],
        "nano_cpus": asked["nano_cpus"],
    }
    problems = []
    for name, value in want.items():
        got = applied.get(name)
        slack = PAGE if name.startswith("memory") else 0
        if not value - slack <= (got or 0) <= value:
            problems.append(f"the kernel applies {name} {got}, asked {value}")
    return problems
