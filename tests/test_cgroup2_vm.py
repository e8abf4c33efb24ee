"""Boot the cgroup v2 guest (scripts/cgroup2-vm.sh) and run the ``cgroup2`` tests there: the
sandbox suites on rootless Podman with delegated controllers, which this host (cgroup v1)
cannot show. Marked ``rootless``: CI (``CHALLENGE_RUNNER_REQUIRE_ROOTLESS=1``) fails if it
skips. It skips where no guest is built (``scripts/install.sh`` builds it; ``bash
scripts/cgroup2-vm.sh build``). The guest runs under qemu's emulation (kvm hangs where
nested virtualisation is half there): a few minutes.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from subprocess import PIPE

import pytest
from conftest import BUSYBOX_IMAGE, PYTHON_IMAGE, ROOT

pytestmark = [pytest.mark.rootless, pytest.mark.docker, pytest.mark.slow]

VM = ROOT / "scripts" / "cgroup2-vm.sh"


def test_the_cgroup2_suites_pass_on_rootless_podman_in_the_guest(busybox_image, python_image):
    ready = subprocess.run(["bash", str(VM), "status"], capture_output=True, text=True)
    if ready.returncode != 0:
        pytest.skip(f"the cgroup v2 guest is not built: {ready.stderr.strip()}")
    command = [
        "env", "CHALLENGE_RUNNER_IN_CGROUP2_VM=1", "CHALLENGE_RUNNER_REQUIRE_CGROUP2=1",
        "python3", "-m", "pytest", "-m", "cgroup2", "-p", "no:cacheprovider", "-n", "2",
        "-q", "-rfEs", "--no-header",
    ]  # fmt: skip
    vm = ["bash", str(VM), "run", "--images", BUSYBOX_IMAGE, PYTHON_IMAGE, "--", *command]
    with subprocess.Popen(vm, stdout=PIPE, stderr=PIPE, text=True) as done:
        try:
            stdout, stderr = done.communicate(timeout=3000)
        except subprocess.TimeoutExpired:
            done.terminate()  # not kill: the script stops its guest, removes its scratch folder
            stdout, stderr = done.communicate(timeout=60)
    report = f"{stdout[-6000:]}\n{stderr[-3000:]}"
    assert done.returncode == 0, report
    summary = re.search(
        r"(?m)^=* ?(\d+) passed(, \d+ deselected)?(, \d+ warnings?)? in [\d.]+s", stdout
    )
    assert summary, report  # passed, and nothing failed, skipped or errored
    # the hostile suite (one run per probe) and test_sandbox_rootless_v2.py
    assert int(summary.group(1)) >= 25, report


def test_a_terminated_run_stops_its_guest_and_removes_its_scratch_folder(tmp_path):
    ready = subprocess.run(["bash", str(VM), "status"], capture_output=True, text=True)
    if ready.returncode != 0:
        pytest.skip(f"the cgroup v2 guest is not built: {ready.stderr.strip()}")
    before = set(SCRATCH.parent.glob(SCRATCH.name))
    with subprocess.Popen(["bash", str(VM), "run", "--", "sleep", "600"], stderr=PIPE) as run:
        deadline = time.monotonic() + 60
        while not (mine := set(SCRATCH.parent.glob(SCRATCH.name)) - before):
            assert time.monotonic() < deadline and run.poll() is None, "the run made no folder"
            time.sleep(0.2)
        [share] = mine
        while not _qemu_using(share):  # the guest is booting
            assert time.monotonic() < deadline and run.poll() is None, "no guest started"
            time.sleep(0.2)
        run.terminate()
        run.wait(timeout=60)
    assert run.returncode == 143
    assert not share.exists()
    assert not _qemu_using(share)


SCRATCH = Path("/var/tmp/cgroup2-vm-share.*")


def _qemu_using(share: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:  # it ended meanwhile
            continue
        if argv[0].endswith(b"qemu-system-x86_64") and any(str(share).encode() in a for a in argv):
            return True
    return False
