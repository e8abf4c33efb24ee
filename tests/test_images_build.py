"""Builds against a real engine: the daemon never fetches what a Dockerfile asks for (a
loopback HTTP server the test starts stays silent), RUN steps are bounded in processes and
disk, and a build leaves no image, intermediate image or container behind."""

from __future__ import annotations

import http.server
import io
import os
import re
import threading
import time
import uuid
from pathlib import Path

import pytest

from runner.images import (
    BUILD_LABEL,
    BuildFailed,
    ImageRejected,
    release_image,
    resolve_image,
)
from runner.images.cgroup import MAX_BUILD_S, PREFIX, holds_processes, pids_cgroup, reap_cgroups
from runner.images.cleanup import BuildTrace, remove_build
from runner.models import BuildSpec, ContainerSpec, Submission

pytestmark = pytest.mark.docker
LIMITS = ContainerSpec(memory="128m", build_timeout_s=120, image_max_size="64m", pids=64)
PIN = "sha256:" + "ab" * 32


@pytest.fixture
def loopback():
    """An HTTP server on 127.0.0.1 (port 0) that logs every request it gets."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secret from the host's loopback\n")

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _submission(tmp_path: Path, dockerfile: str) -> Submission:
    name = tmp_path.name.lower()[-40:].strip("-_.") or "x"
    context = tmp_path / "model"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(dockerfile)
    (context / "x").write_text("x\n")
    return Submission(
        "demo", "octocat", name, tmp_path / f"{name}.yaml",
        build=BuildSpec(context=context), sha256=name,
    )  # fmt: skip


def _leftovers(client, submission: Submission) -> list[str]:
    """Images and containers (intermediate ones too) of this submission's builds."""
    mine = {"label": f"{BUILD_LABEL}=demo/octocat/{submission.name}"}
    images = [i["Id"] for i in client.api.images(all=True, filters=mine)]
    return images + [c["Id"] for c in client.api.containers(all=True, filters=mine)]


SSRF = [
    ("FROM {base}\nADD http://{host}/x /x\n", 2, "ADD from a URL"),
    ('FROM {base}\nADD ["http://{host}/x", "/x"]\n', 2, "ADD from a URL"),
    ("FROM {base}\nARG X=1\nadd h\\\n  ttp://{host}/x /x\n", 3, "ADD from a URL"),
    ("# escape=`\nFROM {base}\nADD ht`tp://{host}/x /x\n", 3, "ADD from a URL"),
    ("FROM {base}\nENV U=http://{host}/x\nADD $U /x\n", 3, "ADD may not use variables"),
    ("FROM {base}\nONBUILD ADD http://{host}/x /x\n", 2, "ADD from a URL"),
    ("FROM {host}/evil/image:latest\n", 1, "FROM {host}/evil/image:latest: no such image"),
    ("FROM {host}/evil/image@" + PIN + "\n", 1, "FROM {host}/evil/image@" + PIN + ": no such"),
    ("ARG BASE={host}/evil/image\nFROM ${{BASE}}\n", 2, "FROM {host}/evil/image: no such image"),
    ("FROM {base} AS a\nCOPY --from={host}/evil/image /x /x\n", 2, "COPY --from must name"),
]


@pytest.mark.parametrize(("dockerfile", "line", "reason"), SSRF)
def test_the_daemon_never_fetches_for_a_dockerfile(
    docker_client, busybox_image, tmp_path, loopback, dockerfile, line, reason
):
    host, seen = loopback
    text = dockerfile.format(base=busybox_image, host=host)
    submission = _submission(tmp_path, text)
    with pytest.raises(ImageRejected) as caught:
        resolve_image(submission, LIMITS, client=docker_client)
    assert caught.value.message.startswith(
        f"model/Dockerfile line {line}: {reason.format(host=host)}"
    )
    assert caught.value.path == str(submission.build.context / "Dockerfile")
    assert seen == []  # nothing reached the host's loopback
    assert _leftovers(docker_client, submission) == []


def test_bases_come_from_the_challenges_list(docker_client, busybox_image, python_image, tmp_path):
    listed = (
        "python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7"
    )
    limits = ContainerSpec(memory="128m", image_max_size="512m", base_images=(listed,))
    refused = _submission(tmp_path / "a", f"FROM {busybox_image}\n")
    with pytest.raises(ImageRejected) as caught:
        resolve_image(refused, limits, client=docker_client)
    assert caught.value.message == (
        f"model/Dockerfile line 1: FROM {busybox_image}: use one of the challenge's base images "
        f"({listed})"
    )
    # The listed base is absent (no registry here): its offline stand-in is used, by ID.
    ok = _submission(tmp_path / "b", f"FROM {listed}\nCOPY x /x\n")
    ref = resolve_image(ok, limits, client=docker_client)
    try:
        image = docker_client.images.get(ref.id)
        assert image.attrs["Parent"] or image.history()
        assert docker_client.images.get(python_image).id in {
            h["Id"] for h in image.history() if h["Id"] != "<missing>"
        }
    finally:
        release_image(ref, client=docker_client)
    assert _leftovers(docker_client, ok) == []


def test_another_submissions_build_is_no_base(docker_client, busybox_image, tmp_path):
    first = _submission(tmp_path / "a", f"FROM {busybox_image}\nCOPY x /x\n")
    ref = resolve_image(first, LIMITS, client=docker_client)
    try:
        [tag] = docker_client.images.get(ref.id).tags
        for name in (tag, ref.id):  # by its tag or by its ID
            second = _submission(tmp_path / name[-8:], f"FROM {name}\n")
            with pytest.raises(ImageRejected) as caught:
                resolve_image(second, LIMITS, client=docker_client)
            assert caught.value.message == (
                f"model/Dockerfile line 1: FROM {name}: another submission's image"
            )
    finally:
        release_image(ref, client=docker_client)


def _pids_available(docker_client) -> bool:
    with pids_cgroup(docker_client, 8, time.time() + 60) as parent:
        return parent is not None


def test_run_steps_are_capped_in_processes(docker_client, busybox_image, tmp_path):
    """64 processes at most: forking 200 sleepers fails; the log counts what got through."""
    if not _pids_available(docker_client):
        pytest.skip("this engine's cgroups cannot be managed by the runner (see cgroup.py)")
    run = "RUN for i in $(seq 1 200); do sleep 30 & echo spawned $i; done"
    submission = _submission(tmp_path, f"FROM {busybox_image}\n{run}\n")
    with pytest.raises(BuildFailed) as caught:
        resolve_image(submission, LIMITS, client=docker_client)
    assert "can't fork" in caught.value.detail
    spawned = max(int(n) for n in re.findall(r"spawned (\d+)", caught.value.detail))
    print(f"processes started in a RUN step with pids=64: {spawned}")
    assert 30 < spawned < 64
    assert _leftovers(docker_client, submission) == []


def test_run_steps_are_capped_in_disk(docker_client, busybox_image, tmp_path):
    """1 GiB written in 20 files under a 64m cap: the build is stopped, nothing is kept."""
    run = "RUN for i in $(seq 1 20); do dd if=/dev/zero of=/f$i bs=1M count=50; done"
    submission = _submission(tmp_path, f"FROM {busybox_image}\n{run}\n")
    with pytest.raises(ImageRejected) as caught:
        resolve_image(submission, LIMITS, client=docker_client)
    assert caught.value.message == (
        "the image build wrote more than the 64m image size limit; use a smaller base image "
        "or fewer dependencies"
    )
    held = int(caught.value.detail.split("cancelled holding ", 1)[1].split(" bytes", 1)[0])
    print(f"bytes held when the build was stopped (cap 64m): {held}")
    assert held < 1 << 30
    assert _leftovers(docker_client, submission) == []


def test_one_file_cannot_exceed_the_cap(docker_client, busybox_image, tmp_path):
    run = "RUN dd if=/dev/zero of=/big bs=1M count=100"
    limits = ContainerSpec(memory="128m", image_max_size="16m", build_timeout_s=120)
    submission = _submission(tmp_path, f"FROM {busybox_image}\n{run}\n")
    with pytest.raises((BuildFailed, ImageRejected)) as caught:
        resolve_image(submission, limits, client=docker_client)
    if isinstance(caught.value, BuildFailed):  # the fsize limit stopped dd first
        assert "File too large" in caught.value.detail
    assert _leftovers(docker_client, submission) == []


def test_a_failed_build_leaves_nothing(docker_client, busybox_image, tmp_path):
    text = f"FROM {busybox_image}\nCOPY x /x\nRUN echo one > /1\nRUN exit 3\n"
    submission = _submission(tmp_path, text)
    with pytest.raises(BuildFailed):
        resolve_image(submission, LIMITS, client=docker_client)
    assert _leftovers(docker_client, submission) == []


def test_a_successful_build_is_removed_once_released(docker_client, busybox_image, tmp_path):
    text = f"FROM {busybox_image} AS one\nRUN echo 1 > /1\nFROM {busybox_image}\nCOPY x /x\n"
    submission = _submission(tmp_path, text)
    ref = resolve_image(submission, LIMITS, client=docker_client)
    assert ref.owned and _leftovers(docker_client, submission)  # the image and its parents
    release_image(ref, client=docker_client)
    assert _leftovers(docker_client, submission) == []
    docker_client.images.get(busybox_image)  # the base stays


def test_a_dockerfile_the_daemon_cannot_parse_is_the_participants_fault(
    docker_client, busybox_image, tmp_path
):
    submission = _submission(tmp_path, f"FROM {busybox_image}\nENV\n")
    with pytest.raises(BuildFailed) as caught:
        resolve_image(submission, LIMITS, client=docker_client)
    assert caught.value.message == (
        "the Dockerfile failed to build (ENV requires at least one argument); run `docker "
        "build` locally to fix it"
    )
    assert _leftovers(docker_client, submission) == []


@pytest.fixture
def onbuild_base(docker_client, busybox_image):
    """Make a local base image whose ONBUILD triggers are the given RUN commands."""
    made = []

    def make(*commands: str) -> str:
        tag = f"challenge-runner-test/onbuild:{uuid.uuid4().hex[:12]}"
        lines = [f"FROM {busybox_image}", *(f"ONBUILD RUN {c}" for c in commands)]
        text = "\n".join(lines) + "\n"
        image, _ = docker_client.images.build(
            fileobj=io.BytesIO(text.encode()), tag=tag, rm=True, nocache=True
        )
        made.append(image.id)
        return tag

    yield make
    for image in made:
        docker_client.images.remove(image, force=True)


def _descendants(client, image_id: str) -> list[str]:
    """Every image built on ``image_id`` (intermediate ones too)."""
    children: dict[str, list[str]] = {}
    for row in client.api.images(all=True):
        children.setdefault(row.get("ParentId") or "", []).append(row["Id"])
    found, todo = [], [image_id]
    while todo:
        found += (more := children.get(todo.pop(), []))
        todo += more
    return found


def test_images_of_a_failed_onbuild_trigger_are_removed(docker_client, onbuild_base, tmp_path):
    # The first trigger commits an image that carries only the base's labels; the second
    # fails, so nothing labelled with the build ID is ever built on it.
    base = onbuild_base("echo one > /one", "echo two > /two", "exit 3")
    submission = _submission(tmp_path, f"FROM {base}\nCOPY x /x\n")
    with pytest.raises(BuildFailed) as caught:
        resolve_image(submission, LIMITS, client=docker_client)
    assert "'/bin/sh -c exit 3' returned a non-zero code: 3" in caught.value.message
    assert _descendants(docker_client, docker_client.images.get(base).id) == []


def test_images_of_onbuild_triggers_go_with_the_build(docker_client, onbuild_base, tmp_path):
    base = onbuild_base("echo one > /one")
    base_id = docker_client.images.get(base).id
    ref = resolve_image(_submission(tmp_path, f"FROM {base}\nCOPY x /x\n"), LIMITS,
                        client=docker_client)  # fmt: skip
    assert ref.id in _descendants(docker_client, base_id)
    release_image(ref, client=docker_client)
    assert _descendants(docker_client, base_id) == []


def test_another_builds_trigger_images_are_never_touched(docker_client, onbuild_base, tmp_path):
    # A build from the same base beside ours (here: a trigger image committed outside the
    # runner) has other RUN containers: the clean-up leaves its images alone.
    base = onbuild_base("echo one > /one", "exit 3")
    base_id = docker_client.images.get(base).id
    other = docker_client.containers.create(base_id, ["sh", "-c", "echo one > /one"])
    theirs = other.commit().id
    try:
        with pytest.raises(BuildFailed):
            resolve_image(_submission(tmp_path, f"FROM {base}\nCOPY x /x\n"), LIMITS,
                          client=docker_client)  # fmt: skip
        assert _descendants(docker_client, base_id) == [theirs]
    finally:
        other.remove(force=True)
        docker_client.images.remove(theirs, force=True)


def test_reap_cgroups_removes_only_what_is_past_its_deadline(tmp_path):
    now = 1_000_000.0
    names = {
        "expired": f"{PREFIX}{int(now) - 1}-aaaaaaaaaaaa",
        "expired_with_child": f"{PREFIX}{int(now) - 1}-bbbbbbbbbbbb",
        "running": f"{PREFIX}{int(now) + 60}-cccccccccccc",
        "busy": f"{PREFIX}{int(now) - 1}-dddddddddddd",
        "old_name_stale": f"{PREFIX}0123456789abcdef",
        "old_name_recent": f"{PREFIX}fedcba9876543210",
        "someone_else": "docker",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    (tmp_path / names["expired_with_child"] / "container").mkdir()
    (tmp_path / names["busy"] / "container").mkdir()
    (tmp_path / names["busy"] / "container" / "cgroup.procs").write_text("42\n")  # not empty
    stale = now - MAX_BUILD_S - 1
    os.utime(tmp_path / names["old_name_stale"], (stale, stale))
    os.utime(tmp_path / names["old_name_recent"], (now, now))
    reaped = reap_cgroups(tmp_path, now)
    assert sorted(p.name for p in reaped) == sorted(
        names[k] for k in ("expired", "expired_with_child", "old_name_stale")
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        names[k] for k in ("running", "busy", "old_name_recent", "someone_else")
    )


def _v1_hierarchies() -> list[Path]:
    root = Path("/sys/fs/cgroup")
    return [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]


def test_a_build_cgroup_leaves_no_directory_in_any_hierarchy(docker_client, busybox_image):
    if not _pids_available(docker_client) or docker_client.info()["CgroupVersion"] == "2":
        pytest.skip("needs a cgroup v1 engine whose cgroups the runner manages (cgroup.py)")
    # The engine makes the parent in every hierarchy for a container under it (memory,
    # cpu ...): all of them go with the build, not only the pids one the runner made.
    with pids_cgroup(docker_client, 16, time.time() + 60) as parent:
        name = parent.lstrip("/")
        run = docker_client.containers.run(busybox_image, ["true"], cgroup_parent=parent,
                                           detach=True)  # fmt: skip
        run.wait(timeout=60)
        made = [h.name for h in _v1_hierarchies() if (h / name).is_dir()]
        run.remove(force=True)
    assert {"pids", "memory"} <= set(made)
    assert [h.name for h in _v1_hierarchies() if (h / name).exists()] == []


def test_a_running_step_under_the_build_cgroup_is_seen(docker_client, busybox_image):
    """After a cancel the daemon may still run a step (late, under load): the clean-up waits
    while the build's cgroup holds a process, and stops waiting once it holds none."""
    if not _pids_available(docker_client):
        pytest.skip("this engine's cgroups cannot be managed by the runner (see cgroup.py)")
    with pids_cgroup(docker_client, 16, time.time() + 60) as parent:
        assert not holds_processes(parent)
        step = docker_client.containers.run(
            busybox_image, ["sleep", "600"], cgroup_parent=parent, detach=True
        )
        try:
            assert holds_processes(parent)
            step.kill()
            step.wait(timeout=60)
            assert not holds_processes(parent)
        finally:
            step.remove(force=True)
    assert not holds_processes(None)


def test_the_clean_up_of_a_cancelled_build_outwaits_a_busy_step(docker_client):
    """Nothing of the build to remove, but its cgroup busy for 1.5 s: the clean-up goes on
    until it has been quiet for the settle time (0.5 s) after it last saw it busy."""
    began = time.monotonic()
    remove_build(
        docker_client, BuildTrace(uuid.uuid4().hex), settle=0.5,
        busy=lambda: time.monotonic() - began < 1.5,
    )  # fmt: skip
    assert 1.5 <= time.monotonic() - began < 30  # without busy: it ends at 0.5 s


def test_a_killed_runners_build_cgroups_are_reaped_by_the_next_build(
    docker_client, busybox_image, tmp_path
):
    if not _pids_available(docker_client) or docker_client.info()["CgroupVersion"] == "2":
        pytest.skip("needs a cgroup v1 engine whose cgroups the runner manages (cgroup.py)")
    # What a runner killed during a RUN step leaves: the parent (and an emptied container
    # cgroup) in every hierarchy, its deadline past.
    name = f"challenge-runner-build-{int(time.time()) - 1}-{uuid.uuid4().hex[:12]}"
    orphans = [h / name for h in _v1_hierarchies()]
    for orphan in orphans:
        (orphan / "0123456789ab").mkdir(parents=True)
    ref = resolve_image(_submission(tmp_path, f"FROM {busybox_image}\nRUN true\n"), LIMITS,
                        client=docker_client)  # fmt: skip
    release_image(ref, client=docker_client)
    assert [o for o in orphans if o.exists()] == []
