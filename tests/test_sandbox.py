"""runner.sandbox: the container arguments (pure), the fail-closed engine check, and real
runs on the local engine: every control seen from inside, classification, progress, cleanup.
The attack probes live in test_hostile.py.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import docker
import pytest
from conftest import ROOT
from fake_engine import FakeEngine

from runner.errors import ConfigError, SandboxError
from runner.models import ContainerSpec
from runner.sandbox import (
    DEADLINE_LABEL,
    LABEL,
    RUN_LABEL,
    check_engine,
    container_kwargs,
    parse_size,
    run_submission,
)
from runner.sandbox.engine import OUTPUT_CAP, missing_controls
from runner.sandbox.output import collect_folder, collect_predictions
from runner.sandbox.seccomp import security_opt

# gVisor has its own tests below; the hostile suite runs under it (test_hostile.py).
LIMITS = ContainerSpec(
    timeout_s=20, memory="64m", cpus=0.5, pids=32, output_limit="4m", tmp_size="8m"
)
PREDICTIONS = "printf 'id,y\\n1,0.5\\n2,0.25\\n' >/output/predictions.csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2g", 2 << 30), ("512m", 512 << 20), ("64k", 64 << 10), ("1.5g", 3 << 29),
     ("100", 100), ("8MiB", 8 << 20), ("2GB", 2 << 30), (4096, 4096)],
)  # fmt: skip
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "g", "2x", "-1m", "0", "1e9", True, 0])
def test_parse_size_refuses_garbage(text):
    with pytest.raises(ConfigError) as caught:
        parse_size(text)
    assert caught.value.message == (
        f"invalid size {text!r}: use a positive number with a unit, e.g. 512m or 2g"
    )


def test_container_kwargs_hold_every_control(tmp_path):
    kwargs = container_kwargs(
        "img", ["python", "/submission/p.py"], LIMITS, input_dir=tmp_path / "in",
        submission_dir=tmp_path / "sub", output_dir=tmp_path / "out", run_id="r1",
        deadline=1234,
    )  # fmt: skip
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in kwargs.pop("ulimits")}
    log_config = kwargs.pop("log_config")
    assert ulimits == {
        "fsize": (8 << 20, 8 << 20), "nofile": (1024, 1024), "core": (0, 0),
        "nproc": (32 * 64, 32 * 64),
    }  # fmt: skip
    assert (log_config.type, log_config.config) == (
        "json-file",
        {"max-size": "1m", "max-file": "1"},
    )
    assert kwargs == {
        "image": "img",
        "command": ["python", "/submission/p.py"],
        "labels": {LABEL: "1", RUN_LABEL: "r1", DEADLINE_LABEL: "1234"},
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges", security_opt("docker")],
        "user": "65534:65534",
        "pids_limit": 32,
        "mem_limit": 64 << 20,
        "memswap_limit": 64 << 20,
        "nano_cpus": 500_000_000,
        "tmpfs": {"/tmp": f"rw,nosuid,nodev,noexec,size={8 << 20}"},
        "shm_size": 8 << 20,
        "environment": {},
        "use_config_proxy": False,
        "init": True,
        "runtime": None,
        "volumes": {
            str(tmp_path / "in"): {"bind": "/input", "mode": "ro"},
            str(tmp_path / "out"): {"bind": "/output", "mode": "rw"},
            str(tmp_path / "sub"): {"bind": "/submission", "mode": "ro"},
        },
        "hostname": "sandbox",
        "privileged": False,
    }


def test_container_kwargs_without_submission_dir_mount_nothing_else(tmp_path):
    kwargs = container_kwargs(
        "img", None, LIMITS, input_dir=tmp_path / "in", submission_dir=None,
        output_dir=tmp_path / "out", run_id="r1", deadline=1,
    )  # fmt: skip
    assert kwargs["command"] is None
    assert sorted(v["bind"] for v in kwargs["volumes"].values()) == ["/input", "/output"]


@pytest.mark.parametrize(("ceiling", "nproc"), [(None, 32 * 64), (15482, 32 * 64), (500, 500)])
def test_the_nproc_ulimit_never_asks_more_than_the_engine_can_grant(tmp_path, ceiling, nproc):
    kwargs = container_kwargs(
        "img", None, LIMITS, input_dir=tmp_path / "in", submission_dir=None,
        output_dir=tmp_path / "out", run_id="r1", deadline=1, nproc_max=ceiling,
    )  # fmt: skip
    [asked] = [u for u in kwargs["ulimits"] if u["Name"] == "nproc"]
    assert (asked["Soft"], asked["Hard"]) == (nproc, nproc)


def test_a_rootless_engines_nproc_ceiling_is_its_users_hard_limit():
    """The runner runs as the rootless engine's user: its own hard RLIMIT_NPROC is the
    engine's (a 4 GiB machine: 15482, below 64 runs of the default 256 pids)."""
    probe = (
        "import resource; from runner.sandbox.engine import Engine, nproc_ceiling\n"
        "resource.setrlimit(resource.RLIMIT_NPROC, (700, 700))\n"
        "rootless, rootful = Engine('podman', True, '2'), Engine('docker', False, '1')\n"
        "print(nproc_ceiling(rootless), nproc_ceiling(rootful))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.split() == ["700", "None"]


def test_check_engine_fails_closed_naming_each_missing_control():
    engine = FakeEngine(SwapLimit=False, PidsLimit=False)
    with pytest.raises(SandboxError) as caught:
        check_engine(engine, LIMITS)
    assert caught.value.message == (
        "the container engine cannot enforce: swap limit (memory+swap); pids limit. Fix the "
        "host (cgroup controllers, runtime, privileges) or pass --unsafe to run without these "
        "controls"
    )


def test_check_engine_unsafe_warns_and_returns_the_gaps(caplog):
    with caplog.at_level(logging.WARNING, logger="runner.sandbox.engine"):
        gaps = check_engine(FakeEngine(CpuCfsQuota=False), LIMITS, unsafe=True)
    assert gaps == ["CPU limit (CFS quota)"]
    assert caplog.messages == ["running WITHOUT CPU limit (CFS quota) (unsafe mode)"]


@pytest.mark.docker
def test_check_engine_accepts_this_engine(engine_client):
    assert missing_controls(engine_client, LIMITS) == []
    assert check_engine(engine_client, LIMITS) == []


@pytest.mark.docker
def test_missing_runtime_fails_closed(engine_client):
    with pytest.raises(SandboxError) as caught:
        check_engine(engine_client, replace(LIMITS, runtime="absent-runtime"))
    reason = {
        "docker": "not installed in the engine",
        "podman": "Podman's Docker-compatible API ignores the runtime asked per container",
    }[_kind(engine_client)]
    assert f"runtime 'absent-runtime' ({reason}" in caught.value.message
    assert OUTPUT_CAP not in caught.value.message


# Podman adds these two to every container; nothing of the host's environment either way.
PODMAN_ENV = {"docker": "", "podman": "TERM=xterm container=podman "}


def _kind(client) -> str:
    return getattr(client, "engine_name", "docker")


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("input_dir", "submission_dir", "work_dir")}
    for path in paths.values():
        path.mkdir()
    (paths["input_dir"] / "features.csv").write_text("id,x\n1,0.1\n")
    (paths["submission_dir"] / "predict.sh").write_text(PREDICTIONS + "\n")
    return paths


def _run(client, image, script: str, dirs, **limits):
    return run_submission(
        image, ["sh", "-c", script], **dirs, limits=replace(LIMITS, **limits), client=client
    )


@pytest.mark.docker
def test_ok_run_copies_predictions_and_cleans_up(engine_client, engine_busybox, dirs):
    said: list[str] = []
    outcome = run_submission(
        engine_busybox, ["sh", "/submission/predict.sh"], **dirs, limits=LIMITS,
        client=engine_client, progress=said.append,
    )  # fmt: skip
    assert (outcome.status, outcome.message, outcome.exit_code) == ("ok", "completed", 0)
    assert outcome.predictions.read_text() == "id,y\n1,0.5\n2,0.25\n"
    assert outcome.predictions.parent == dirs["work_dir"]
    assert list(dirs["work_dir"].iterdir()) == [outcome.predictions]
    assert said == ["running the submission (time limit 20 s)", "finished: ok"]
    assert outcome.detail.startswith(f"container {outcome.container_id[:12]} image ")
    with pytest.raises(docker.errors.NotFound):
        engine_client.containers.get(outcome.container_id)


@pytest.mark.docker
def test_controls_seen_from_inside(engine_client, engine_busybox, dirs):
    script = (
        "{ echo probe,result; id -u; id -g; env | sort | tr '\\n' ' '; echo;"
        " cat /sys/fs/cgroup/memory/memory.limit_in_bytes"
        " /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/pids/pids.max"
        " /sys/fs/cgroup/cpu/cpu.cfs_quota_us; ulimit -f; ulimit -n; ulimit -c;"
        ' awk \'$2 ~ /^\\/(tmp|input|output|submission)?$/ { split($4, o, ",");'
        ' print $2, ($3 == "tmpfs" ? "tmpfs" : "host"), o[1] }\' /proc/mounts | sort;'
        " ls /sys/class/net; cat /input/features.csv;"
        " } >/output/predictions.csv"
    )
    outcome = _run(engine_client, engine_busybox, script, dirs)
    assert outcome.status == "ok", outcome.detail
    lines = outcome.predictions.read_text().splitlines()
    env = "HOME=/nonexistent HOSTNAME=sandbox PATH=/bin PWD=/ SHLVL=1 "
    assert lines == [
        "probe,result", "65534", "65534", env + PODMAN_ENV[_kind(engine_client)],
        str(64 << 20), str(64 << 20), "32", "50000",
        str((8 << 20) // 512), "1024", "0",
        "/ host ro", "/input host ro", "/output tmpfs rw", "/submission host ro",
        "/tmp tmpfs rw", "lo", "id,x", "1,0.1",
    ]  # fmt: skip


@pytest.mark.docker
def test_failed_run_reports_the_exit_code(engine_client, engine_busybox, dirs):
    outcome = _run(engine_client, engine_busybox, PREDICTIONS + "; echo oops >&2; exit 3", dirs)
    assert (outcome.status, outcome.message, outcome.exit_code) == (
        "failed", "exited with a non-zero code", 3
    )  # fmt: skip
    assert " exit_code=3 " in outcome.detail  # the exact code: for maintainers only
    assert outcome.predictions is None
    assert outcome.detail.endswith("--- output (last 65536 bytes) ---\noops\n")
    assert list(dirs["work_dir"].iterdir()) == []


@pytest.mark.docker
def test_killed_by_a_signal_is_named(engine_client, engine_busybox, dirs):
    outcome = _run(engine_client, engine_busybox, "kill -TERM $$", dirs)
    assert (outcome.status, outcome.message) == ("failed", "exited with a non-zero code")
    assert " exit_code=143 " in outcome.detail


@pytest.mark.docker
def test_output_cap_holds_when_the_writer_ignores_errors(engine_client, engine_busybox, dirs):
    script = "head -c 5000 /dev/zero >/output/predictions.csv; exit 0"
    outcome = _run(engine_client, engine_busybox, script, dirs, output_limit="4k")
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert outcome.predictions.stat().st_size == 4096  # the tmpfs refused the rest


@pytest.mark.docker
def test_a_file_past_fsize_kills_the_writer(engine_client, engine_busybox, dirs):
    script = "head -c 5000 /dev/zero >/output/predictions.csv"
    outcome = _run(engine_client, engine_busybox, script, dirs, output_limit="4k", tmp_size="4k")
    assert (outcome.status, outcome.message) == ("failed", "exited with a non-zero code")
    assert " exit_code=153 " in outcome.detail  # SIGXFSZ


@pytest.mark.docker
def test_missing_image_is_an_error(engine_client, dirs):
    outcome = run_submission(
        "challenge-runner/absent:nope", None, **dirs, limits=LIMITS, client=engine_client
    )
    assert (outcome.status, outcome.message) == (
        "error", "the submission image is not available on the runner"
    )  # fmt: skip
    assert "absent" in outcome.detail


@pytest.mark.docker
def test_missing_input_dir_is_an_error(engine_client, engine_busybox, dirs, tmp_path):
    dirs["input_dir"] = tmp_path / "nowhere"
    outcome = run_submission(engine_busybox, None, **dirs, limits=LIMITS, client=engine_client)
    assert (outcome.status, outcome.message, outcome.detail) == (
        "error", "a sandbox directory is missing on the runner", str(tmp_path / "nowhere")
    )  # fmt: skip


def test_engine_down_is_an_error(dirs, tmp_path):
    client = docker.DockerClient(base_url=f"unix://{tmp_path}/no.sock", version="1.41")
    outcome = run_submission("any", None, **dirs, limits=LIMITS, client=client)
    assert (outcome.status, outcome.message) == (
        "error", "the container engine is not reachable; start Docker or set DOCKER_HOST"
    )  # fmt: skip
    assert outcome.container_id is None


@pytest.mark.docker
def test_unknown_runtime_is_an_error_unless_unsafe(engine_client, engine_busybox, dirs):
    limits = replace(LIMITS, runtime="absent-runtime")
    outcome = run_submission(
        engine_busybox, ["sh", "/submission/predict.sh"], **dirs, limits=limits,
        client=engine_client,
    )  # fmt: skip
    assert outcome.status == "error"
    assert outcome.message.startswith(
        "the container engine cannot enforce: runtime 'absent-runtime'"
    )
    unsafe = run_submission(
        engine_busybox, ["sh", "/submission/predict.sh"], **dirs, limits=limits,
        client=engine_client, unsafe=True,
    )  # fmt: skip
    assert (unsafe.status, unsafe.message) == ("ok", "completed")


@pytest.mark.docker
def test_runtime_is_passed_through(engine_client, engine_busybox, dirs):
    outcome = run_submission(
        engine_busybox, ["sh", "/submission/predict.sh"], **dirs,
        limits=replace(LIMITS, runtime="runc"), client=engine_client,
    )  # fmt: skip
    # Podman ignores the runtime asked, but this service's own is runc: accepted, and read
    # back from the container (test_sandbox_podman_gvisor.py has a service of another runtime).
    assert (outcome.status, outcome.message) == ("ok", "completed")


@pytest.mark.docker
def test_image_volumes_are_refused(engine_client, engine_busybox, dirs):
    image = engine_client.images.get(engine_busybox)
    tag = "localhost/challenge-runner/test-volume:sandbox"  # Podman wants a full name
    container = engine_client.containers.create(engine_busybox, labels={LABEL: "1"})
    try:
        container.commit(tag.rsplit(":", 1)[0], "sandbox", changes=["VOLUME /data"])
    finally:
        container.remove()
    try:
        outcome = run_submission(tag, None, **dirs, limits=LIMITS, client=engine_client)
    finally:
        engine_client.images.remove(tag)
    assert (outcome.status, outcome.message) == (
        "invalid", "the image declares VOLUME /data; remove VOLUME instructions"
    )  # fmt: skip
    assert image.id  # the base image is untouched


def test_collect_predictions_copies_a_regular_file(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "predictions.csv").write_text("id,y\n1,1\n")
    copy, reason = collect_predictions(tmp_path / "out", tmp_path, 100, "100b")
    assert (copy.read_text(), reason, copy.parent) == ("id,y\n1,1\n", "", tmp_path)


def test_collect_predictions_refuses_a_file_over_the_limit(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "predictions.csv").write_bytes(b"x" * 101)
    assert collect_predictions(tmp_path / "out", tmp_path, 100, "100b") == (
        None,
        "/output/predictions.csv is larger than the 100b output limit",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_collect_predictions_never_follows_links(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "secret").write_text("truth")
    (tmp_path / "out" / "predictions.csv").symlink_to(tmp_path / "secret")
    assert collect_predictions(tmp_path / "out", tmp_path, 100, "100b") == (
        None,
        "/output/predictions.csv is a symbolic link; write a regular file",
    )


def test_collect_predictions_does_not_block_on_a_fifo(tmp_path):
    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out" / "predictions.csv")
    assert collect_predictions(tmp_path / "out", tmp_path, 100, "100b") == (
        None,
        "/output/predictions.csv is not a regular file",
    )


def _output(tmp_path, files):
    out = tmp_path / "out"
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        if data == "FIFO":
            os.mkfifo(out / name)
        elif data.startswith("->"):
            (out / name).symlink_to(data[2:])
        else:
            (out / name).write_text(data)
    out.mkdir(exist_ok=True)
    return out


def test_collect_folder_zips_every_file_the_same_way_each_time(tmp_path):
    out = _output(tmp_path, {"b/deep/x.npy": "123", "a.txt": "hello", "meta.json": "{}"})
    first, reason = collect_folder(out, tmp_path, 100, "/app/output")
    assert reason == ""
    with zipfile.ZipFile(first) as bundle:
        assert bundle.namelist() == ["a.txt", "b/deep/x.npy", "meta.json"]
        assert bundle.read("b/deep/x.npy") == b"123"
    os.utime(out / "a.txt", (0, 0))  # times are not part of the bytes
    second, _ = collect_folder(out, tmp_path, 100, "/app/output")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "wrote nothing to /app/output; write the outputs there"),
        ({"x/leak": "->/etc/passwd"}, "/app/output/x/leak is a symbolic link; write regular files"),
        ({"pipe": "FIFO"}, "/app/output/pipe is not a regular file"),
        ({"a": "x" * 60, "b": "y" * 60}, "/app/output holds more than the output limit"),
    ],
)
def test_collect_folder_refuses_links_fifos_and_too_much(tmp_path, files, reason):
    out = _output(tmp_path, files)
    assert collect_folder(out, tmp_path, 100, "/app/output") == (None, reason)
    assert not list(tmp_path.glob("output-*.zip"))  # nothing half-written is left


@pytest.mark.docker
def test_no_mount_privilege_fails_closed_unless_unsafe(
    engine_client, engine_busybox, dirs, monkeypatch
):
    # As a runner without root or sudo: the /output cap cannot be mounted.
    monkeypatch.setattr("runner.sandbox.engine.mount_prefix", lambda: None)
    command = ["sh", "/submission/predict.sh"]
    refused = run_submission(engine_busybox, command, **dirs, limits=LIMITS, client=engine_client)
    assert (refused.status, refused.message) == (
        "error",
        f"the container engine cannot enforce: {OUTPUT_CAP}. Fix the host (cgroup controllers, "
        "runtime, privileges) or pass --unsafe to run without these controls",
    )
    unsafe = run_submission(
        engine_busybox, command, **dirs, limits=LIMITS, client=engine_client, unsafe=True
    )
    assert (unsafe.status, unsafe.message) == ("ok", "completed")
    assert list(dirs["work_dir"].iterdir()) == [unsafe.predictions]
    assert str(dirs["work_dir"]) not in Path("/proc/mounts").read_text()


@pytest.mark.docker
def test_a_missing_command_is_the_participants_failure(engine_client, engine_busybox, dirs):
    outcome = run_submission(
        engine_busybox, ["/no/such/program"], **dirs, limits=LIMITS, client=engine_client
    )
    assert (outcome.status, outcome.message) == ("failed", "exited with a non-zero code")
    assert {
        "docker": "exec /no/such/program failed",
        "podman": "failed to exec pid1: No such file or directory",
    }[_kind(engine_client)] in outcome.detail


GVISOR_VERSION = "Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016"


def _gvisor(client) -> str:
    """The name this engine registered runsc under (skips where it has none)."""
    for name, runtime in (client.info().get("Runtimes") or {}).items():
        if Path(str(runtime.get("path") or "")).name == "runsc":
            return name
    pytest.skip("no runtime whose path is runsc is registered with this Docker engine")


NO_OCI_SECCOMP = (
    "runtime 'gv' without --oci-seccomp (gVisor then ignores the seccomp profile: add it to "
    "the runtime's runtimeArgs in the engine's daemon.json)"
)


@pytest.mark.parametrize(
    ("args", "pids", "gaps"),
    [
        (["--oci-seccomp", "--network=none"], 128, []),
        (["-oci-seccomp=true"], 128, []),
        (["--network=none"], 128, [NO_OCI_SECCOMP]),
        (["--oci-seccomp=false"], 128, [NO_OCI_SECCOMP]),
        (["--oci-seccomp", "--oci-seccomp=false"], 128, [NO_OCI_SECCOMP]),  # Go: last wins
        (["--oci-seccomp"], 127, [
            "runtime 'gv' with pids 127 (gVisor needs a pids limit of at least 128: its own "
            "threads count)"
        ]),
    ],
)  # fmt: skip
def test_gvisor_needs_oci_seccomp_and_128_pids(args, pids, gaps):
    # Without --oci-seccomp runsc starts the container and ignores its seccomp profile
    # (io_uring_setup and unshare(CLONE_NEWUSER) then succeed inside).
    runsc = {"path": "/usr/bin/runsc", "runtimeArgs": args}
    engine = FakeEngine(Runtimes={"runc": {}, "gv": runsc})
    missing = missing_controls(engine, replace(LIMITS, runtime="gv", pids=pids))
    assert [gap for gap in missing if gap.startswith("runtime ")] == gaps


@pytest.mark.gvisor
def test_gvisor_really_runs_the_container(docker_client, busybox_image, dirs):
    limits = replace(LIMITS, runtime=_gvisor(docker_client), pids=256, memory="256m")
    outcome = run_submission(
        busybox_image, ["sh", "-c", "cat /proc/version >/output/predictions.csv"], **dirs,
        limits=limits, client=docker_client,
    )  # fmt: skip
    assert (outcome.status, outcome.message) == ("ok", "completed"), outcome.detail
    assert outcome.predictions.read_text() == GVISOR_VERSION + "\n"  # gVisor's kernel, not ours


@pytest.mark.gvisor
def test_gvisor_runtime_script_keeps_a_registered_runtime(docker_client):
    # scripts/install.sh runs it on every install: once registered, nothing is touched.
    if _gvisor(docker_client) != "runsc":
        pytest.skip("runsc is registered under another name here")
    script = Path(__file__).resolve().parent.parent / "scripts" / "gvisor-runtime.sh"
    environment = {k: v for k, v in os.environ.items() if k != "CHALLENGE_RUNNER_GVISOR_RUNTIME"}
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, check=False, env=environment
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0, "==> gVisor: runtime runsc is registered with Docker\n", ""
    )  # fmt: skip


@pytest.mark.gvisor
def test_gvisor_with_too_few_pids_is_refused(docker_client, busybox_image, dirs):
    runtime = _gvisor(docker_client)
    outcome = run_submission(
        busybox_image, ["true"], **dirs, limits=replace(LIMITS, runtime=runtime),
        client=docker_client,
    )  # fmt: skip
    assert (outcome.status, outcome.message) == (
        "error",
        f"the container engine cannot enforce: runtime {runtime!r} with pids 32 (gVisor needs "
        "a pids limit of at least 128: its own threads count). Fix the host (cgroup "
        "controllers, runtime, privileges) or pass --unsafe to run without these controls",
    )


@pytest.mark.docker
def test_public_inputs_keep_the_exact_exit_code(docker_client, busybox_image, dirs):
    outcome = run_submission(
        busybox_image, ["sh", "-c", "kill -TERM $$"], **dirs, limits=LIMITS,
        client=docker_client, public_inputs=True,
    )  # fmt: skip
    assert (outcome.status, outcome.message) == ("failed", "exited with code 143 (signal SIGTERM)")
