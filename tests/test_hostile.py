"""The hostile-submission suite: one probe per attack (DESIGN §10, invariants 1-5).

Every probe in ``tests/hostile/`` runs through ``run_submission`` with small limits; each
test asserts the outcome status and message, what the probe observed from inside, that the
truth never leaked, and that no container, mount or temp file was left behind.
"""

from __future__ import annotations

import contextlib
import ipaddress
import resource
import socket
import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import docker.errors
import pytest
from conftest import IN_CGROUP2_VM, engine_namespace_mounts

from runner.models import ContainerSpec
from runner.sandbox import RUN_LABEL, RunOutcome, run_submission

# Every probe runs on Docker, rootful Podman, both under gVisor, and rootless Podman on
# cgroup v2 (in the guest of scripts/cgroup2-vm.sh; see conftest.py).
ENGINES = [
    "docker",
    pytest.param("podman", marks=pytest.mark.podman),
    pytest.param("gvisor", marks=pytest.mark.gvisor),
    pytest.param("podman-gvisor", marks=[pytest.mark.podman, pytest.mark.gvisor]),
    pytest.param("cgroup2", marks=pytest.mark.cgroup2),  # rootless Podman, cgroup v2 guest
]
pytestmark = [
    pytest.mark.docker,
    pytest.mark.parametrize("engine_client", ENGINES, indirect=True, scope="session"),
]

HOSTILE = Path(__file__).resolve().parent / "hostile"
LIMITS = ContainerSpec(
    timeout_s=60,  # a bound for hangs, not part of any probe: generous on a loaded machine
    memory="64m",
    cpus=1.0,
    output_limit="8m",
    tmp_size="8m",
    pids=64,
)
MIB = 1 << 20


@dataclass(frozen=True)
class Arena:
    """A host layout like real hidden data: inputs/ (mounted) beside truth.csv (never)."""

    input_dir: Path
    truth: Path
    token: str
    work_dir: Path


@pytest.fixture
def arena(tmp_path: Path) -> Arena:
    token = f"TRUTH-{uuid.uuid4().hex}"
    hidden = tmp_path / "hidden"
    (hidden / "inputs").mkdir(parents=True)
    (hidden / "inputs" / "features.csv").write_text("id,x\n1,0.1\n2,0.2\n")
    truth = hidden / "truth.csv"
    truth.write_text(f"id,y,split\n1,{token},public\n2,{token},private\n")
    work = tmp_path / "work"
    work.mkdir()
    return Arena(hidden / "inputs", truth, token, work)


def assert_clean(client, arena: Arena, outcome: RunOutcome) -> None:
    """No container, no mount, nothing in work_dir but the predictions copy, no truth."""
    assert outcome.container_id is not None
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(outcome.container_id)
    # The low-level list: containers.list() inspects each, racing other tests' removals.
    mine = client.api.containers(all=True, filters={"label": RUN_LABEL})
    assert [c["Id"] for c in mine if c["Id"] == outcome.container_id] == []
    expected = [outcome.predictions.name] if outcome.predictions else []
    assert sorted(p.name for p in arena.work_dir.iterdir()) == expected
    assert str(arena.work_dir) not in Path("/proc/mounts").read_text()
    if getattr(client, "engine_name", "") == "podman" and IN_CGROUP2_VM:  # rootless: its own
        assert str(arena.work_dir) not in engine_namespace_mounts()  # mount namespace too
    assert arena.token not in outcome.message
    assert arena.token not in outcome.detail
    if outcome.predictions:
        assert not _contains(outcome.predictions, arena.token.encode())


def _contains(path: Path, needle: bytes) -> bool:
    """Search a possibly huge file in chunks (overlapping by the needle's length)."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def _gvisor(client) -> str | None:
    """The gVisor runtime this client's runs use (conftest's ``gvisor`` engine), or None."""
    return getattr(client, "sandbox_runtime", None)


def limits_for(client) -> ContainerSpec:
    runtime = _gvisor(client)
    # gVisor's own threads count against the pids limit: 128 is its floor (check_engine).
    return replace(LIMITS, runtime=runtime, pids=128) if runtime else LIMITS


# The cgroup v2 guest runs under qemu's emulation, many times slower than the host: probes
# given a minute to finish get five there (those meant to time out keep their few seconds).
EMULATED_SLOWDOWN = 5 if IN_CGROUP2_VM else 1
# A run killed at a 3 s limit ends within 10 s (coarse), within 50 s under emulation.
KILLED_WITHIN = (5.0, 10.0, 20.0, 50.0) if IN_CGROUP2_VM else (5.0, 10.0)


def probe(client, arena: Arena, image: str, command: list[str], **limits) -> RunOutcome:
    limits = replace(limits_for(client), **limits)
    if limits.timeout_s >= 60:
        limits = replace(limits, timeout_s=limits.timeout_s * EMULATED_SLOWDOWN)
    outcome = run_submission(
        image,
        command,
        input_dir=arena.input_dir,
        submission_dir=HOSTILE,
        work_dir=arena.work_dir,
        limits=limits,
        client=client,
    )
    assert_clean(client, arena, outcome)
    return outcome


def rows(outcome: RunOutcome) -> list[tuple[str, str]]:
    assert outcome.predictions is not None, outcome
    lines = outcome.predictions.read_text().splitlines()
    assert lines[0] == "probe,result"
    return [tuple(line.split(",", 1)) for line in lines[1:]]


def test_network_is_unreachable(engine_client, engine_busybox, arena):
    # Podman's bridge has no host address until one of its containers uses it: listen on
    # Docker's bridge there (reachable from the host's network, as the Docker run proves).
    podman = _kind(engine_client) == "podman"
    bridge = docker.from_env() if podman else engine_client
    if IN_CGROUP2_VM:  # the guest has no network but loopback: listen there (a container in
        gateway = "127.0.0.1"  # a network namespace of its own cannot reach the host's)
    else:
        config = bridge.networks.get("bridge").attrs["IPAM"]["Config"][0]
        # The engine omits Gateway when it is the default: the subnet's first address.
        gateway = config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    listener = socket.create_server((gateway, 0))  # something real to reach on the host
    port = listener.getsockname()[1]
    listener.settimeout(30)
    accepted: list[str] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            connection, peer = listener.accept()
            connection.close()  # busybox nc waits for the peer to close
            accepted.append(peer[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        outcome = probe(
            engine_client,
            arena,
            engine_busybox,
            ["sh", "/submission/network.sh", gateway, str(port)],
        )
        control_exit = _control(bridge, gateway, port) if not podman else 0
        thread.join(5)
    finally:
        listener.close()
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert rows(outcome) == [
        ("tcp_internet", "blocked"),
        ("tcp_gateway", "blocked"),
        ("dns", "blocked"),
        ("metadata", "blocked"),
        ("interface", "lo"),
    ]
    # only the control container got through
    assert control_exit == 0 and len(accepted) == (0 if podman else 1)


def _control(client, gateway: str, port: int) -> int:
    """Positive control: the same connection from a container on the default bridge works."""
    image = "challenge-runner/busybox:test"
    control = client.containers.run(image, ["nc", "-w", "2", gateway, str(port)], detach=True)
    try:
        return control.wait(timeout=30)["StatusCode"]
    finally:
        control.remove(force=True)


def _kind(client) -> str:
    return getattr(client, "engine_name", "docker")


def test_fork_bomb_is_capped_by_pids(engine_client, engine_busybox, arena):
    # Under the cgroup v2 guest's emulation the bomb starves the probe's counting loop past
    # any limit: there the bomb must end at a short time limit with nothing left behind
    # (test_sandbox_rootless_v2.py counts what a pids limit lets start, in bounded time).
    short = {"timeout_s": 20} if IN_CGROUP2_VM else {}
    outcome = probe(
        engine_client, arena, engine_busybox, ["sh", "/submission/forkbomb.sh"], **short
    )
    pids = limits_for(engine_client).pids
    if IN_CGROUP2_VM and outcome.status == "timeout":
        assert outcome.message == "killed after the 20 s time limit"
    elif _gvisor(engine_client):
        # The pids cgroup counts gVisor's Sentry threads and its ptrace stubs (about 9 host
        # threads per sandboxed process): the bomb exhausts it, the Sentry cannot start a
        # thread and stops (the Go runtime's fatal-error exit, 2). The run ends there, well
        # within its time: the participant's failure, counted, never a platform error.
        assert (outcome.status, outcome.message) == ("failed", "exited with a non-zero code")
        assert " exit_code=2 " in outcome.detail
    else:
        assert (outcome.status, outcome.message) == ("ok", "completed")
        observed = dict(rows(outcome))
        assert observed["pids_max"] == str(pids)
        assert int(observed["processes"]) <= pids
    # Nothing of the container survives on the host (runsc's sandbox, gofer and stubs, the
    # engine's shim all name the container in their command line).
    assert _host_processes_naming(outcome.container_id) == []


def _host_processes_naming(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):  # the process ended meanwhile
            if text.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
    return found


def test_memory_balloon_is_oom(engine_client, engine_python, arena):
    outcome = probe(engine_client, arena, engine_python, ["python3", "/submission/memory.py"])
    assert (outcome.status, outcome.message) == ("oom", "exceeded the 64m memory limit")
    assert outcome.exit_code == 137
    assert outcome.predictions is None


def test_cpu_spin_times_out(engine_client, engine_busybox, arena):
    outcome = probe(
        engine_client, arena, engine_busybox, ["sh", "/submission/spin.sh"], timeout_s=3
    )
    assert (outcome.status, outcome.message) == ("timeout", "killed after the 3 s time limit")
    assert outcome.duration_s in KILLED_WITHIN  # coarse: the exact time is in the detail only


def test_sleep_forever_times_out(engine_client, engine_busybox, arena):
    outcome = probe(
        engine_client, arena, engine_busybox, ["sh", "/submission/sleep.sh"], timeout_s=3
    )
    assert (outcome.status, outcome.message) == ("timeout", "killed after the 3 s time limit")
    assert outcome.duration_s in KILLED_WITHIN  # coarse: the exact time is in the detail only


def test_tmp_and_shm_are_capped(engine_client, engine_busybox, arena):
    outcome = probe(engine_client, arena, engine_busybox, ["sh", "/submission/fill_tmp.sh"])
    assert (outcome.status, outcome.message) == ("ok", "completed")
    observed = dict(rows(outcome))
    assert 0 < int(observed["tmp_bytes"]) <= 8 * MIB
    assert 0 < int(observed["shm_bytes"]) <= 8 * MIB


def test_output_is_capped_in_bytes_and_files(engine_client, engine_busybox, arena):
    outcome = probe(engine_client, arena, engine_busybox, ["sh", "/submission/fill_output.sh"])
    assert (outcome.status, outcome.message) == ("ok", "completed")
    observed = dict(rows(outcome))
    assert 0 < int(observed["output_bytes"]) <= 8 * MIB
    assert 0 < int(observed["output_files"]) < 4096


def test_full_output_without_predictions_is_invalid(engine_client, engine_busybox, arena):
    command = ["sh", "/submission/fill_output_exit0.sh"]
    outcome = probe(engine_client, arena, engine_busybox, command)
    assert (outcome.status, outcome.message) == (
        "invalid",
        "wrote no /output/predictions.csv; write the predictions there",
    )


def test_stdout_flood_is_capped(engine_client, engine_busybox, arena):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    command = ["sh", "/submission/stdout_flood.sh"]
    outcome = probe(engine_client, arena, engine_busybox, command, timeout_s=240)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert outcome.predictions.read_text() == "id,y\n1,0.5\n"
    tail = outcome.detail.split("---\n", 1)[1]
    # Podman logs nothing of a line that never ends (a known Podman limitation).
    assert len(tail) <= 64 * 1024 and set(tail) == (
        {"x"} if _kind(engine_client) == "docker" else set()
    )
    assert grown_kib < 64 * 1024  # the runner never held the gigabyte


def test_nothing_outside_output_is_writable(engine_client, engine_busybox, arena):
    outcome = probe(engine_client, arena, engine_busybox, ["sh", "/submission/write_outside.sh"])
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert rows(outcome) == [
        ("root_file", "blocked"),
        ("etc_passwd", "blocked"),
        ("bin_dir", "blocked"),
        ("input", "blocked"),
        ("input_existing", "blocked"),
        ("submission", "blocked"),
        ("var_dir", "blocked"),
        ("remount", "blocked"),
    ]
    assert (arena.input_dir / "features.csv").read_text() == "id,x\n1,0.1\n2,0.2\n"
    assert sorted(p.name for p in arena.input_dir.iterdir()) == ["features.csv"]


@pytest.mark.parametrize(
    "target", ["host-truth", "/etc/passwd", "/input/features.csv", "/proc/self/environ"]
)
def test_symlinked_predictions_are_invalid_and_not_followed(
    engine_client, engine_busybox, arena, target
):
    target = str(arena.truth) if target == "host-truth" else target
    outcome = probe(engine_client, arena, engine_busybox, ["sh", "/submission/symlink.sh", target])
    assert (outcome.status, outcome.message) == (
        "invalid",
        "/output/predictions.csv is a symbolic link; write a regular file",
    )
    assert outcome.predictions is None


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_special_predictions_are_invalid(engine_client, engine_busybox, arena, kind):
    command = ["sh", "/submission/special_file.sh", kind]
    outcome = probe(engine_client, arena, engine_busybox, command)
    # Under gVisor a FIFO lives in the sandbox's kernel only: the host sees no file at all.
    gvisor_fifo = _gvisor(engine_client) and kind == "fifo"
    assert (outcome.status, outcome.message) == (
        "invalid",
        "wrote no /output/predictions.csv; write the predictions there"
        if gvisor_fifo
        else "/output/predictions.csv is not a regular file",
    )


def test_truth_is_unreachable(engine_client, engine_busybox, arena):
    outcome = probe(engine_client, arena, engine_busybox, ["sh", "/submission/read_truth.sh"])
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert rows(outcome) == [("found", "0")]


def test_no_root_and_no_capabilities(engine_client, engine_busybox, arena):
    outcome = probe(engine_client, arena, engine_busybox, ["sh", "/submission/privileges.sh"])
    assert (outcome.status, outcome.message) == ("ok", "completed")
    observed = rows(outcome)
    gvisor = _gvisor(engine_client)
    if gvisor:
        # gVisor lets mknod succeed in its own in-memory /tmp (not in the host-backed
        # /output), without CAP_MKNOD; every node resolves in the Sentry's own device table
        # (its /dev/null and the like), never a host device: host_devices is what counts.
        assert observed[6] in (("mknod", "allowed"), ("mknod", "denied"))
        observed[6] = ("mknod", "denied")
    assert observed == [
        ("uid", "65534"),
        ("gid", "65534"),
        ("cap_eff", "0000000000000000"),
        ("cap_bnd", "0000000000000000"),
        ("no_new_privs", "" if gvisor else "1"),  # gVisor's /proc does not show the flag
        ("chown", "denied"),
        ("mknod", "denied"),
        ("host_devices", "denied"),
        ("ping", "denied"),
        ("chroot", "denied"),
        ("setuid_su", "denied"),
        ("userns", "denied"),
        ("mount", "denied"),
    ]


def test_syscalls_beyond_scoring_are_denied(engine_client, engine_python, arena):
    # Docker 20.10's own default allows the first two: the runner's profile denies them.
    outcome = probe(engine_client, arena, engine_python, ["python3", "/submission/syscalls.py"])
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert rows(outcome) == [
        ("io_uring_setup", "denied"),
        ("af_vsock", "denied"),
        ("unshare_user", "denied"),
        ("af_unix", "allowed"),
    ]


def test_ten_million_columns_over_the_cap_fail(engine_client, engine_busybox, arena):
    outcome = probe(engine_client, arena, engine_busybox, ["sh", "/submission/wide_header.sh"])
    # The fsize ulimit (= the output cap) stops the writer before the tmpfs is full.
    assert (outcome.status, outcome.message) == (
        "failed",
        "exited with a non-zero code",
    )
    assert " exit_code=153 " in outcome.detail  # SIGXFSZ, for maintainers only
    assert outcome.predictions is None


def test_ten_million_columns_within_the_cap_are_copied_safely(engine_client, engine_busybox, arena):
    expected = len("id") + sum(len(f",c{i}") for i in range(10_000_000)) + 1
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = probe(
        engine_client, arena, engine_busybox, ["sh", "/submission/wide_header.sh"],
        output_limit="128m", memory="256m", timeout_s=60,
    )  # fmt: skip
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert outcome.predictions.stat().st_size == expected
    assert grown_kib < 32 * 1024  # copied in chunks, never read whole
