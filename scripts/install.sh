#!/usr/bin/env bash
# Install everything challenge-runner's tests need on a fresh Debian/Ubuntu machine:
# system packages (busybox-static and debootstrap build the offline test images, chromium
# runs the browser tests), the Python package with its locked dev dependencies, and the
# test images.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ] || need+=(busybox-static)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing system packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Dependencies come from the hash-pinned lock (regenerate: bash scripts/lock.sh), installed
# with uv (itself pinned by hash, installed with pip), then the package alone, editable.
echo "==> installing the locked dependencies (requirements/dev.lock) and challenge-runner"
python=$(python3 -c 'import sys; print(sys.executable)')
pip=(python3 -m pip install -q --disable-pip-version-check)
if "${pip[@]}" --require-hashes -r requirements/uv.lock && python3 -m uv --version >/dev/null; then
  python3 -m uv pip install -q --python "$python" --require-hashes -r requirements/dev.lock
  python3 -m uv pip install -q --python "$python" --no-deps -e .
else
  echo "    (uv unavailable here: installing with pip, slower)"
  "${pip[@]}" --require-hashes -r requirements/dev.lock
  "${pip[@]}" --no-deps -e .
fi

if docker info >/dev/null 2>&1; then
  echo "==> building the offline test images"
  bash scripts/build-test-images.sh all
else
  echo "==> no Docker engine answers: skipping test images (Docker tests will skip)"
fi
# --- gVisor: Debian's runsc, registered with Docker as runtime `runsc` for `pytest -m gvisor`
# (scripts/gvisor-runtime.sh: merges daemon.json and reloads dockerd with SIGHUP, never a
# restart); skip with CHALLENGE_RUNNER_NO_GVISOR=1. ---
if [ "${CHALLENGE_RUNNER_NO_GVISOR:-0}" != 1 ]; then
  bash scripts/gvisor-runtime.sh
fi
# --- Podman (rootful) for `pytest -m podman` (scripts/podman-service.sh), and rootless, as
# an unprivileged user, for `pytest -m rootless` (scripts/podman-rootless-service.sh); skip
# both with CHALLENGE_RUNNER_NO_PODMAN=1. Sockets of their own: Docker is never touched. ---
if [ "${CHALLENGE_RUNNER_NO_PODMAN:-0}" != 1 ]; then
  bash scripts/podman-service.sh
  bash scripts/podman-rootless-service.sh
fi
# --- end Podman ---
# --- The cgroup v2 guest for `pytest -m cgroup2` (run there by tests/test_cgroup2_vm.py):
# qemu and a Debian guest with rootless Podman, built once and cached by its inputs
# (scripts/cgroup2-vm.sh); skip with CHALLENGE_RUNNER_NO_VM=1. ---
if [ "${CHALLENGE_RUNNER_NO_VM:-0}" != 1 ]; then
  echo "==> the cgroup v2 guest (scripts/cgroup2-vm.sh build)"
  bash scripts/cgroup2-vm.sh build
fi
echo "==> done"
