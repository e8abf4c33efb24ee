"""runner.sandbox.verify: every control is read back from the created container, and a
container whose HostConfig differs from the request is removed without being started.

The engine stand-in is a loopback HTTP proxy in front of the real Docker socket that drops a
limit from the create request (or the seccomp profile from the inspect answer), as an engine
that silently ignores a control would.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import socket
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import docker
import pytest
from fake_engine import FakeEngine

from runner.errors import SandboxError
from runner.images import resolve_image
from runner.models import BuildSpec, ContainerSpec, Submission
from runner.sandbox import LABEL, check_engine, container_kwargs, run_submission
from runner.sandbox.engine import ROOTLESS_OUTPUT_CAP
from runner.sandbox.live import applied_limits, live_mismatches, namespace_problems
from runner.sandbox.verify import mismatches

LIMITS = ContainerSpec(timeout_s=20, memory="64m", cpus=0.5, pids=32, output_limit="4m")
DOCKER_SOCKET = "/var/run/docker.sock"


def _asked(tmp_path: Path, **limits) -> dict:
    return container_kwargs(
        "img", None, replace(LIMITS, **limits), input_dir=tmp_path / "in", submission_dir=None,
        output_dir=tmp_path / "out", run_id="r", deadline=1,
    )  # fmt: skip


def _docker_attrs(asked: dict) -> dict:
    """What Docker answers for a container created exactly as asked."""
    host = {
        "Memory": asked["mem_limit"], "MemorySwap": asked["memswap_limit"],
        "NanoCpus": asked["nano_cpus"], "PidsLimit": asked["pids_limit"],
        "ShmSize": asked["shm_size"], "ReadonlyRootfs": True, "NetworkMode": "none",
        "Privileged": False, "Init": True, "Ulimits": [dict(u) for u in asked["ulimits"]],
        "SecurityOpt": list(asked["security_opt"]), "Tmpfs": dict(asked["tmpfs"]),
        "CapDrop": ["ALL"], "CapAdd": None, "Runtime": "runc",
        "Binds": [f"{src}:{spec['bind']}:{spec['mode']}" for src, spec in asked["volumes"].items()],
        "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}},
    }  # fmt: skip
    mounts = [{"Destination": spec["bind"]} for spec in asked["volumes"].values()]
    return {"HostConfig": host, "Mounts": mounts, "Config": {"User": "65534:65534"}}


def test_a_faithful_container_passes(tmp_path):
    asked = _asked(tmp_path)
    assert mismatches(asked, _docker_attrs(asked)) == []


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("Memory", 0, "Memory is 0, asked 67108864"),
        ("MemorySwap", -1, "MemorySwap is -1, asked 67108864"),
        ("NanoCpus", 0, "NanoCpus is 0, asked 500000000"),
        ("PidsLimit", None, "PidsLimit is None, asked 32"),
        ("ReadonlyRootfs", False, "ReadonlyRootfs is False, asked True"),
        ("NetworkMode", "bridge", "NetworkMode is 'bridge', asked 'none'"),
        ("Init", None, "Init is None, asked True"),
        ("Ulimits", [], "Ulimits fsize is None, asked (67108864, 67108864)"),
        ("SecurityOpt", ["no-new-privileges"], "SecurityOpt lacks the sandbox's seccomp profile"),
        ("SecurityOpt", [], "SecurityOpt lacks no-new-privileges"),
        ("CapDrop", [], "CapDrop is [], asked ALL"),
        ("CapAdd", ["NET_RAW"], "CapAdd is ['NET_RAW'], asked none"),
        ("Tmpfs", {"/tmp": "rw,size=1"}, "Tmpfs /tmp lacks nodev,noexec,nosuid,size=67108864"),
        ("Tmpfs", {}, "Tmpfs mounts are [], asked ['/tmp']"),
        ("Privileged", True, "Privileged is True, asked False"),
        ("LogConfig", {"Type": "json-file"}, "log max-size is '0', asked 1048576"),
    ],
)
def test_each_dropped_control_is_named(tmp_path, field, value, problem):
    asked = _asked(tmp_path)
    attrs = _docker_attrs(asked)
    attrs["HostConfig"][field] = value
    assert mismatches(asked, attrs) == [problem]


def test_binds_mounts_user_and_runtime_are_compared(tmp_path):
    asked = _asked(tmp_path, runtime="runsc")
    attrs = _docker_attrs(asked)
    attrs["HostConfig"]["Binds"][0] = attrs["HostConfig"]["Binds"][0].replace(":ro", ":rw")
    attrs["Mounts"].append({"Destination": "/data"})  # an image VOLUME
    attrs["Config"]["User"] = ""
    assert mismatches(asked, attrs) == [
        f"Binds are [('{tmp_path}/in', '/input', 'rw'), ('{tmp_path}/out', '/output', 'rw')], "
        f"asked [('{tmp_path}/in', '/input', 'ro'), ('{tmp_path}/out', '/output', 'rw')]",
        "runtime is 'runc', asked 'runsc'",
        "User is '', asked '65534:65534'",
    ]
    attrs = _docker_attrs(asked) | {"Mounts": [{"Destination": "/data"}]}
    attrs["HostConfig"]["Runtime"] = "runsc"
    assert mismatches(asked, attrs) == ["unexpected mounts ['/data']"]


def test_podmans_form_is_read(tmp_path):
    asked = _asked(tmp_path)
    attrs = _docker_attrs(asked)
    caps = frozenset({"CHOWN", "KILL", "SETUID"})
    attrs["HostConfig"] |= {
        "CapDrop": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_RAW"], "CapAdd": [],
        "Runtime": "oci", "LogConfig": {"Type": "json-file", "Config": None},
        "Ulimits": [{"Name": f"RLIMIT_{u['Name'].upper()}", "Soft": u["Soft"], "Hard": u["Hard"]}
                    for u in asked["ulimits"]],
        "Binds": [f"{src}:{spec['bind']}:{spec['mode']},rprivate,rbind"
                  for src, spec in asked["volumes"].items()],
        "Tmpfs": {"/tmp": asked["tmpfs"]["/tmp"] + ",rprivate,tmpcopyup"},
    }  # fmt: skip
    libpod = {"OCIRuntime": "runc", "HostConfig": {"LogConfig": {"Size": "1MB"}}}
    assert mismatches(asked, attrs, libpod=libpod, engine_caps=caps) == []
    assert mismatches(asked, attrs, libpod=libpod, engine_caps=caps | {"SYS_ADMIN"}) == [
        "CapDrop is ['CHOWN', 'KILL', 'NET_RAW', 'SETUID'], asked ALL"
    ]
    runsc = _asked(tmp_path, runtime="runsc")
    assert mismatches(runsc, attrs, libpod=libpod, engine_caps=caps) == [
        "runtime is 'runc', asked 'runsc'"
    ]


def test_rootless_podman_on_cgroup_v1_is_refused():
    """As rootless Podman 4.3 answers (tests/test_sandbox_rootless.py runs the real one): its
    compatible /info claims every limit and says nothing of rootless; /libpod/info does."""
    rootless = FakeEngine(
        "Podman Engine",
        libpod_host={"security": {"rootless": True}, "cgroupVersion": "v1"},
        SecurityOptions=["name=seccomp,profile=default"],
        CgroupVersion="1",
    )
    with pytest.raises(SandboxError) as caught:
        check_engine(rootless, LIMITS)
    assert caught.value.message == (
        "the container engine cannot enforce: resource limits on a rootless podman with cgroup "
        "v1 (it ignores memory, swap, pids and CPU limits while /info claims them; use rootful "
        "Docker or Podman, or rootless Podman on cgroup v2); "
        f"{ROOTLESS_OUTPUT_CAP}. Fix the host (cgroup controllers, runtime, privileges) or pass "
        "--unsafe to run without these controls"
    )


def test_rootless_docker_is_refused_on_either_cgroup_version():
    for version, why in [
        ("1", "it ignores memory, swap, pids and CPU limits while /info claims them"),
        ("2", "not supported: the runner's checks that they hold are untested there"),
    ]:
        rootless = FakeEngine("Engine", SecurityOptions=["name=rootless"], CgroupVersion=version)
        with pytest.raises(SandboxError) as caught:
            check_engine(rootless, LIMITS)
        assert caught.value.message.startswith(
            f"the container engine cannot enforce: resource limits on a rootless docker with "
            f"cgroup v{version} ({why}; use rootful Docker or Podman, or rootless Podman on "
            "cgroup v2); output size cap (a rootless engine cannot see the runner's tmpfs). Fix "
            "the host"
        )


def test_podman_that_cannot_say_whether_it_is_rootless_is_refused():
    podman = FakeEngine("Podman Engine", libpod_host={"cgroupVersion": "v1"})
    with pytest.raises(SandboxError) as caught:
        check_engine(podman, LIMITS)
    assert "resource limits on a rootless podman with cgroup v1" in caught.value.message


def test_a_runtime_under_podman_is_refused():
    with pytest.raises(SandboxError) as caught:
        podman = FakeEngine("Podman Engine", CgroupVersion="1")
        check_engine(podman, replace(LIMITS, runtime="runsc"))
    assert caught.value.message.startswith(
        "the container engine cannot enforce: runtime 'runsc' (Podman's Docker-compatible API "
        "ignores the runtime asked per container: this service runs every container with "
        "'runc'; run one started as `podman --runtime runsc --runtime-flag oci-seccomp system "
        "service`)."
    )


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=120)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self._path)


class _StandIn(http.server.ThreadingHTTPServer):
    """A loopback Docker API that forwards to the real socket and tampers on the way."""

    daemon_threads = True

    def __init__(self, tamper_create=None, tamper_inspect=None):
        super().__init__(("127.0.0.1", 0), _Forward)
        self.tamper_create, self.tamper_inspect = tamper_create, tamper_inspect
        self.requests: list[str] = []


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(f"{self.command} {self.path}")
        if self.server.tamper_create and re.search(r"/containers/create", self.path):
            body = json.dumps(self.server.tamper_create(json.loads(body))).encode()
        upstream = _UnixConnection(DOCKER_SOCKET)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        payload = answer.read()
        if self.server.tamper_inspect and re.search(r"/containers/\w+/json", self.path):
            payload = json.dumps(self.server.tamper_inspect(json.loads(payload))).encode()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = _forward


def _run_through(stand_in: _StandIn, image: str, dirs: dict, script: str = "echo id"):
    thread = threading.Thread(target=stand_in.serve_forever, daemon=True)
    thread.start()
    client = docker.DockerClient(base_url=f"tcp://127.0.0.1:{stand_in.server_address[1]}")
    try:
        return run_submission(
            image, ["sh", "-c", f"{script} >/output/predictions.csv"], **dirs, limits=LIMITS,
            client=client,
        )  # fmt: skip
    finally:
        client.close()
        stand_in.shutdown()
        stand_in.server_close()


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("input_dir", "work_dir")}
    for path in paths.values():
        path.mkdir()
    return paths | {"submission_dir": None}


def _drop_memory(request: dict) -> dict:
    request["HostConfig"] |= {"Memory": 0, "MemorySwap": 0}
    return request


def _hide_seccomp(answer: dict) -> dict:
    options = answer["HostConfig"]["SecurityOpt"]
    answer["HostConfig"]["SecurityOpt"] = [o for o in options if not o.startswith("seccomp=")]
    return answer


@pytest.mark.docker
@pytest.mark.parametrize(
    ("stand_in", "problem"),
    [
        (lambda: _StandIn(tamper_create=_drop_memory), "Memory is 0, asked 67108864"),
        (lambda: _StandIn(tamper_inspect=_hide_seccomp), "SecurityOpt lacks the sandbox's"),
    ],
    ids=["create-drops-memory", "inspect-lacks-seccomp"],
)
def test_a_container_that_differs_is_never_started(
    docker_client, busybox_image, dirs, stand_in, problem
):
    engine = stand_in()
    outcome = _run_through(engine, busybox_image, dirs)
    assert (outcome.status, outcome.message) == (
        "error",
        "the container engine did not apply every sandbox control; nothing was run",
    )
    assert problem in outcome.detail
    created = [r for r in engine.requests if "/containers/create" in r]
    assert len(created) == 1
    assert not [r for r in engine.requests if r.startswith("POST") and r.endswith("/start")]
    assert [r for r in engine.requests if r.startswith("DELETE /")]  # removed, not started
    mine = docker_client.api.containers(all=True, filters={"label": LABEL})
    assert outcome.detail.split()[2] not in {c["Id"][:12] for c in mine}
    assert list(dirs["work_dir"].iterdir()) == []  # /output unmounted and removed


@pytest.mark.docker
def test_unsafe_runs_despite_a_mismatch(docker_client, busybox_image, dirs, caplog):
    engine = _StandIn(tamper_inspect=_hide_seccomp)
    thread = threading.Thread(target=engine.serve_forever, daemon=True)
    thread.start()
    client = docker.DockerClient(base_url=f"tcp://127.0.0.1:{engine.server_address[1]}")
    try:
        outcome = run_submission(
            busybox_image, ["sh", "-c", "echo id >/output/predictions.csv"], **dirs,
            limits=LIMITS, client=client, unsafe=True,
        )  # fmt: skip
    finally:
        client.close()
        engine.shutdown()
        engine.server_close()
    assert (outcome.status, outcome.message) == ("ok", "completed")
    assert "running WITHOUT a control (unsafe mode): SecurityOpt lacks the sandbox's seccomp " \
        "profile" in caplog.messages  # fmt: skip


def _claim_memory(answer: dict) -> dict:
    answer["HostConfig"] |= {"Memory": 64 << 20, "MemorySwap": 64 << 20}
    return answer


@pytest.mark.docker
def test_an_engine_that_lies_in_inspect_is_caught_by_the_cgroup_files(
    docker_client, busybox_image, dirs
):
    # The stand-in drops the limit at create and claims it in every inspect answer.
    engine = _StandIn(tamper_create=_drop_memory, tamper_inspect=_claim_memory)
    # Still running when its cgroup is read (a process already gone cannot be checked).
    outcome = _run_through(engine, busybox_image, dirs, script="sleep 5; echo id")
    assert (outcome.status, outcome.message) == (
        "error",
        "the container engine did not apply every sandbox control; the run was stopped",
    )
    assert "the kernel applies memory 9223372036854771712, asked 67108864" in outcome.detail
    assert [r for r in engine.requests if r.startswith("POST") and r.endswith("/kill")]
    assert list(dirs["work_dir"].iterdir()) == []


def _cgroup_tree(tmp_path: Path, lines: str, files: dict[str, str]) -> tuple[Path, Path]:
    proc, root = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "42").mkdir(parents=True)
    (proc / "42" / "cgroup").write_text(lines)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return proc, root


def test_cgroup_v1_and_v2_files_are_read(tmp_path):
    v1 = _cgroup_tree(
        tmp_path / "v1",
        "9:pids:/docker/c\n8:memory:/docker/c\n4:cpu,cpuacct:/docker/c\n1:name=systemd:/\n",
        {"memory/docker/c/memory.limit_in_bytes": "67108864",
         "memory/docker/c/memory.memsw.limit_in_bytes": "67108864",
         "pids/docker/c/pids.max": "32", "cpu/docker/c/cpu.cfs_quota_us": "50000",
         "cpu/docker/c/cpu.cfs_period_us": "100000"},
    )  # fmt: skip
    v2 = _cgroup_tree(
        tmp_path / "v2",
        "0::/system.slice/docker-c.scope\n",
        {"system.slice/docker-c.scope/memory.max": "67108864",
         "system.slice/docker-c.scope/memory.swap.max": "0",
         "system.slice/docker-c.scope/pids.max": "max",
         "system.slice/docker-c.scope/cpu.max": "50000 100000"},
    )  # fmt: skip
    limits = {"memory": 64 << 20, "memory+swap": 64 << 20, "nano_cpus": 500_000_000}
    assert applied_limits(42, *v1) == limits | {"pids": 32}
    assert applied_limits(42, *v2) == limits | {"pids": 1 << 62}
    asked = {"mem_limit": 64 << 20, "memswap_limit": 64 << 20, "pids_limit": 32,
             "nano_cpus": 500_000_000}  # fmt: skip
    assert live_mismatches(asked, applied_limits(42, *v1)) == []
    assert live_mismatches(asked, applied_limits(42, *v2)) == [
        f"the kernel applies pids {1 << 62}, asked 32"
    ]
    assert applied_limits(7, *v1) is None  # a process the runner cannot see
    blind = _cgroup_tree(tmp_path / "ns", "0::/\n", {})
    assert applied_limits(42, *blind) is None  # another cgroup namespace: nothing to read


def test_builds_are_refused_under_podman(tmp_path):
    # Podman's compatible build API gives RUN steps the host network whatever is asked.
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    submission = Submission(
        "demo", "octocat", "b", tmp_path / "b.yaml", build=BuildSpec(context=tmp_path / "ctx")
    )
    with pytest.raises(SandboxError) as caught:
        resolve_image(submission, LIMITS, client=FakeEngine("Podman Engine", CgroupVersion="1"))
    assert caught.value.message == (
        "image builds need Docker: Podman's Docker-compatible build API gives RUN steps the "
        "host's network whatever is asked; build on a Docker runner"
    )


def _rootless_v2(controllers=("cpu", "memory", "pids"), uid=None) -> FakeEngine:
    """Rootless Podman on cgroup v2 as /libpod/info describes it (the real one runs in the
    cgroup v2 guest: tests/test_sandbox_rootless_v2.py)."""
    uid = os.geteuid() if uid is None else uid
    return FakeEngine("Podman Engine", CgroupVersion="2", libpod_host={
        "security": {"rootless": True}, "cgroupVersion": "v2",
        "cgroupControllers": list(controllers),
        "idMappings": {"uidmap": [{"container_id": 0, "host_id": uid, "size": 1}]},
        "ociRuntime": {"name": "crun", "path": "/usr/bin/crun"},
    })  # fmt: skip


def test_rootless_podman_on_cgroup_v2_with_its_controllers_is_accepted(monkeypatch, tmp_path):
    (tmp_path / "podman").write_text("#!/bin/sh\n")
    (tmp_path / "podman").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert check_engine(_rootless_v2(), LIMITS) == []


@pytest.mark.parametrize(
    ("controllers", "lacking"),
    [(("memory", "pids"), "cpu controller"), (("cpuset", "io"), "memory, pids, cpu controllers")],
)
def test_rootless_podman_without_delegated_controllers_is_refused(controllers, lacking):
    with pytest.raises(SandboxError) as caught:
        check_engine(_rootless_v2(controllers), LIMITS)
    assert caught.value.message.startswith(
        "the container engine cannot enforce: resource limits on a rootless podman with cgroup "
        f"v2 whose user lacks the {lacking} (delegate them: Delegate=cpu memory pids in a "
        "drop-in for user@.service, see hosting.md). Fix the host"
    )


def test_rootless_podman_of_another_user_or_without_the_command_is_refused(monkeypatch, tmp_path):
    with pytest.raises(SandboxError) as caught:
        check_engine(_rootless_v2(uid=os.geteuid() + 1), LIMITS)
    assert f"the rootless engine runs as uid {os.geteuid() + 1}, the runner as uid" in str(
        caught.value.message
    )
    monkeypatch.setenv("PATH", str(tmp_path))  # no podman command here
    with pytest.raises(SandboxError) as caught:
        check_engine(_rootless_v2(), LIMITS)
    gap = (
        "output size cap (the podman command is missing on the runner: it mounts /output's "
        "tmpfs in the rootless engine's namespace with `podman unshare`)"
    )
    assert caught.value.message.startswith(f"the container engine cannot enforce: {gap}. Fix")
    assert check_engine(_rootless_v2(), LIMITS, unsafe=True) == [gap]  # said, then run


def test_a_conmon_in_another_mount_namespace_is_refused():
    """Rootless Podman: /output's tmpfs lives in the mount namespace of the runner's helper;
    an engine whose conmon is elsewhere would not see it (tests/test_sandbox_rootless_v2.py
    shows the real pair agree)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make a mount namespace with unshare -m")
    ours = Path(f"/proc/{os.getpid()}/ns/mnt")
    other = subprocess.Popen(["unshare", "-m", "sleep", "60"])
    try:
        for _ in range(100):  # until unshare has moved into its namespace and exec'd sleep
            if Path(f"/proc/{other.pid}/cmdline").read_bytes().startswith(b"sleep"):
                break
            time.sleep(0.05)
        theirs = os.readlink(f"/proc/{other.pid}/ns/mnt")
        assert theirs != os.readlink(ours)
        assert namespace_problems(os.getpid(), ours) == []
        assert namespace_problems(other.pid, ours) == [
            f"/output's tmpfs is not where the engine mounts from (its conmon is in {theirs}, "
            f"the tmpfs in {os.readlink(ours)}): run the runner as the engine's user with its "
            "XDG_RUNTIME_DIR"
        ]
        assert "its conmon is in none" in namespace_problems(0, ours)[0]
    finally:
        other.kill()
        other.wait()
