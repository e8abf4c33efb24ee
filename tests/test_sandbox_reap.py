"""runner.sandbox.reap: what a runner killed with ``kill -9`` left behind is reaped by the
next run once its deadline has passed, and nothing of a run in progress is touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import docker.errors
import pytest

from runner.models import ContainerSpec
from runner.sandbox import DEADLINE_LABEL, LABEL, run_submission
from runner.sandbox.output import UNSHARE
from runner.sandbox.reap import reap_mounts

ROOT = Path(__file__).resolve().parent.parent
LIMITS = ContainerSpec(timeout_s=20, memory="64m", cpus=0.5, pids=32, output_limit="4m")

# A runner whose orphans expire ORPHAN_S after they start (no kill wait, no margin), killed
# while its container sleeps. ORPHAN_S leaves a loaded machine time for the run that must see
# the orphan still alive; the test waits it out once.
ORPHAN_S = 15
RUNNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import runner.sandbox.run as run
    from runner.models import ContainerSpec
    run.KILL_WAIT_S = run.REAP_MARGIN_S = 0
    limits = ContainerSpec(timeout_s=int(sys.argv[4]), memory="64m", cpus=0.5, pids=32,
                           output_limit="4m")
    run.run_submission(
        sys.argv[1], ["sh", "-c", "echo secret >/output/held; sleep 600"],
        input_dir=Path(sys.argv[2]), submission_dir=None, work_dir=Path(sys.argv[3]),
        limits=limits, progress=lambda line: print(line, flush=True),
    )
    """
)


def _orphan(client, image: str, input_dir: Path, work_dir: Path) -> None:
    """Start a runner, wait until its container runs, then ``kill -9`` it."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, image, str(input_dir), str(work_dir), str(ORPHAN_S)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = runner.stdout.readline()
        assert line.startswith("running the submission"), line
        for _ in range(120):  # the container is started right after this line
            if [c for c in _containers(client, work_dir) if c.status == "running"]:
                break
            time.sleep(0.25)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        runner.stdout.close()


def _containers(client, work_dir: Path) -> list:
    """The runner's containers that mount something under ``work_dir``."""
    return [
        client.containers.get(c["Id"])
        for c in client.api.containers(filters={"label": LABEL})
        if str(work_dir) in str(c.get("Mounts"))
    ]


def _mounted(work_dir: Path) -> list[str]:
    return [line for line in Path("/proc/mounts").read_text().splitlines() if str(work_dir) in line]


@pytest.mark.docker
def test_kill_9_leftovers_are_reaped_by_the_next_run(docker_client, busybox_image, tmp_path):
    inputs, work = tmp_path / "in", tmp_path / "work"
    inputs.mkdir()
    work.mkdir()
    _orphan(docker_client, busybox_image, inputs, work)
    left = _containers(docker_client, work)
    assert len(left) == 1 and left[0].status == "running"
    deadline = int(left[0].labels[DEADLINE_LABEL])
    [output_dir] = work.iterdir()
    assert len(_mounted(work)) == 1 and f"challenge-runner-output@{deadline} " in _mounted(work)[0]
    # A run before the deadline leaves the orphan alone (it could be a live run elsewhere).
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    command = ["sh", "-c", "echo id >/output/predictions.csv"]
    run_submission(
        busybox_image, command, input_dir=inputs, submission_dir=None, work_dir=fresh,
        limits=LIMITS, client=docker_client,
    )  # fmt: skip
    assert left[0].reload() is None and left[0].status == "running"
    time.sleep(max(0.0, deadline + 1 - time.time()))
    outcome = run_submission(
        busybox_image, command, input_dir=inputs, submission_dir=None, work_dir=fresh,
        limits=LIMITS, client=docker_client,
    )  # fmt: skip
    assert outcome.status == "ok"
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(left[0].id)
    assert _mounted(work) == []
    assert not output_dir.exists()
    assert list(work.iterdir()) == []


def test_only_expired_mounts_of_the_runner_are_reaped(tmp_path, monkeypatch):
    mounts = tmp_path / "mounts"
    mounts.write_text(
        f"challenge-runner-output@100 {tmp_path}/old tmpfs rw 0 0\n"
        f"challenge-runner-output@300 {tmp_path}/live tmpfs rw 0 0\n"
        f"tmpfs {tmp_path}/other tmpfs rw 0 0\n"
        f"challenge-runner-output {tmp_path}/unlabelled tmpfs rw 0 0\n"
    )
    calls: list[Path] = []
    monkeypatch.setattr("runner.sandbox.reap.unmount", lambda path, prefix: calls.append(path))
    assert reap_mounts([], 200, mounts) == [tmp_path / "old"]
    assert reap_mounts(None, 200, mounts) == []  # no privilege: nothing was mounted
    assert calls == [tmp_path / "old"]


def test_a_rootless_reap_that_cannot_look_warns_and_goes_on(tmp_path, monkeypatch, caplog):
    """For rootless Podman the mount table is read in its namespace (``podman unshare``);
    without the command the new run goes on, saying why nothing was reaped."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no podman here
    assert reap_mounts(UNSHARE, time.time(), tmp_path / "unused") == []
    assert "could not look for orphaned /output mounts" in caplog.text
