"""Rootless Podman on cgroup v2, with cpu, memory and pids delegated to its user: the one
rootless engine the runner accepts. These tests run in the guest of scripts/cgroup2-vm.sh
(marked ``cgroup2``; tests/test_cgroup2_vm.py boots it), as the engine's own user, against
the real service; the hostile suite runs there too (test_hostile.py, engine "cgroup2").

What they show: the engine is recognised with its delegated controllers; the kernel applies
every limit inside the container (read from its own cgroup files); /output's tmpfs, mounted
in the engine's namespace with ``podman unshare``, caps what is written and is gone after the
run; the runner checks that the engine mounted it from the namespace holding that tmpfs.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import BUSYBOX_IMAGE, CGROUP2_HOST, ROOT, engine_namespace_mounts
from test_sandbox_reap import ORPHAN_S, RUNNER

from runner.models import ContainerSpec
from runner.sandbox import check_engine, run_submission
from runner.sandbox.engine import describe_engine
from runner.sandbox.live import applied_limits, namespace_problems
from runner.sandbox.spec import NPROC_RUNS, parse_size

pytestmark = pytest.mark.cgroup2

LIMITS = ContainerSpec(timeout_s=30, memory="64m", cpus=0.5, pids=32, output_limit="4m")
MIB = 1 << 20


@pytest.fixture
def dirs(tmp_path: Path) -> dict:
    made = {"input_dir": tmp_path / "in", "submission_dir": tmp_path / "sub", "work_dir": tmp_path}
    for path in made.values():
        path.mkdir(exist_ok=True)
    (made["input_dir"] / "features.csv").write_text("id,x\n1,0.5\n")
    return made


def _run(client, dirs: dict, script: str, **limits):
    limits = replace(LIMITS, **limits)
    return run_submission(BUSYBOX_IMAGE, ["sh", "-c", script], **dirs, limits=limits, client=client)


def test_the_engine_is_rootless_podman_with_delegated_controllers(cgroup2_client):
    engine = describe_engine(cgroup2_client)
    assert (engine.kind, engine.rootless, engine.cgroup_version) == ("podman", True, "2")
    assert {"cpu", "memory", "pids"} <= set(engine.controllers)
    assert check_engine(cgroup2_client, LIMITS) == []  # nothing missing: no --unsafe needed


def test_the_kernel_applies_every_limit_inside_the_container(cgroup2_client, dirs, monkeypatch):
    read = []  # what the runner's own check after start read from the container's cgroup

    def spy(pid):
        read.append(applied_limits(pid))
        return read[-1]

    monkeypatch.setattr("runner.sandbox.run.applied_limits", spy)
    namespaces = []  # and whether the engine mounted /output where its tmpfs is

    def same(conmon_pid, namespace):
        namespaces.append(
            (conmon_pid, os.readlink(namespace), namespace_problems(conmon_pid, namespace))
        )
        return namespaces[-1][2]

    monkeypatch.setattr("runner.sandbox.run.namespace_problems", same)
    probe = (
        "cd /sys/fs/cgroup && { cat memory.max memory.swap.max pids.max cpu.max;"
        " ulimit -f; ulimit -n; ulimit -c; id -u; } >/output/predictions.csv; sleep 2"
    )
    outcome = _run(cgroup2_client, dirs, probe)
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    assert read == [
        {"memory": 64 * MIB, "memory+swap": 64 * MIB, "pids": 32, "nano_cpus": 5 * 10**8}
    ]
    [(conmon, namespace, problems)] = namespaces
    assert conmon > 0 and namespace.startswith("mnt:[") and problems == []
    assert namespace != os.readlink("/proc/self/ns/mnt")  # not the runner's own
    lines = outcome.predictions.read_text().splitlines()
    assert lines == [
        str(64 * MIB),  # memory.max
        "0",  # memory.swap.max: memory+swap equals memory
        "32",  # pids.max
        "50000 100000",  # cpu.max: half a CPU
        str(max(4 * MIB, parse_size(LIMITS.tmp_size)) // 512),  # fsize, in 512-byte blocks
        "1024",
        "0",
        "65534",
    ]


def test_a_run_at_the_default_pids_limit_asks_no_more_processes_than_the_user_has(
    cgroup2_client, dirs
):
    """64 runs of the default 256 pids make an nproc ulimit of 16384; a rootless engine cannot
    raise its user's hard limit, which the kernel sizes by memory (15482 in this 4 GiB guest):
    asked for more, crun refused to start every run. The runner asks what the user has."""
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    assert hard < 256 * NPROC_RUNS, f"the guest's hard RLIMIT_NPROC {hard} shows nothing here"
    outcome = _run(cgroup2_client, dirs, "ulimit -u >/output/predictions.csv", pids=256)
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    assert outcome.predictions.read_text().split() == [str(hard)]


def test_the_pids_limit_stops_processes_past_it(cgroup2_client, dirs):
    """60 processes asked for, 32 allowed in all (the shell and the container's init count)."""
    probe = (  # a subshell forks until refused (busybox sh then exits); builtins after
        "( for i in $(seq 60); do sleep 30 & done ) 2>/dev/null; "
        "n=0; for p in /proc/[0-9]*; do n=$((n + 1)); done; "
        "read -r current </sys/fs/cgroup/pids.current; read -r events </sys/fs/cgroup/pids.events; "
        'echo "$n $current $events" >/output/predictions.csv'
    )
    outcome = _run(cgroup2_client, dirs, probe)
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    seen, current, name, refused = outcome.predictions.read_text().split()
    assert 25 <= int(seen) <= 32 and int(current) <= 32  # the container's init counts too
    assert name == "max" and int(refused) > 0  # pids.events: forks refused at the limit


def test_output_is_capped_and_its_tmpfs_gone_after_the_run(cgroup2_client, dirs):
    probe = (
        "head -c 6000000 /dev/zero >/output/big 2>/dev/null; echo big=$?; "
        "df -k /output | tail -1; rm /output/big; printf 'id,y\\n1,0\\n' >/output/predictions.csv"
    )
    outcome = _run(
        cgroup2_client, dirs, f"{{ {probe}; }} >/tmp/log 2>&1; cat /tmp/log >&2", timeout_s=30
    )
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    assert outcome.predictions.read_text() == "id,y\n1,0\n"
    log = outcome.detail.split("---")[-1]
    assert "big=1" in log  # the write failed at the cap (ENOSPC), the host disk untouched
    assert " 4096 " in log.split("big=1")[1]  # a 4096 KiB tmpfs
    assert str(dirs["work_dir"]) not in engine_namespace_mounts()
    assert sorted(p.name for p in dirs["work_dir"].iterdir()) == sorted(
        ["in", "sub", outcome.predictions.name]
    )


def test_a_runner_killed_with_its_helper_leaves_a_tmpfs_the_next_run_reaps(cgroup2_client, dirs):
    """``kill -9`` of the runner's whole process group (a cancelled CI job) takes the helper
    holding /output's tmpfs with it: the tmpfs stays in the engine's namespace, holding what
    the run wrote, until the first run past its deadline unmounts it there."""
    work = dirs["work_dir"] / "orphan"
    work.mkdir()
    path = os.pathsep.join([str(ROOT), *(p for p in sys.path if p)])  # /opt/site in the guest
    env = os.environ | {"PYTHONPATH": path, "DOCKER_HOST": CGROUP2_HOST}
    args = [BUSYBOX_IMAGE, str(dirs["input_dir"]), str(work), str(ORPHAN_S)]
    with subprocess.Popen(
        [sys.executable, "-c", RUNNER, *args], stdout=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    ) as runner:  # fmt: skip
        try:
            line = runner.stdout.readline()
            assert line.startswith("running the submission"), line
            time.sleep(5)  # the container starts right after that line, and writes
        finally:
            os.killpg(runner.pid, signal.SIGKILL)
    [output_dir] = work.iterdir()
    [mount] = [m for m in engine_namespace_mounts().splitlines() if str(output_dir) in m]
    deadline = int(mount.split()[0].partition("@")[2])
    time.sleep(max(0.0, deadline + 1 - time.time()))
    outcome = _run(cgroup2_client, dirs, "echo id >/output/predictions.csv")
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    assert str(output_dir) not in engine_namespace_mounts()
    assert not output_dir.exists()
