#!/usr/bin/env bash
# Install everything challenge-runner's tests need on a fresh Debian/Ubuntu machine:
# system packages (busybox-static and debootstrap build the offline test images, chromium
# runs the browser tests), the Python package with its dev extra, and the test images.
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

echo "==> installing challenge-runner with its dev extra"
python3 -m pip install -q --disable-pip-version-check -e ".[dev]"

if docker info >/dev/null 2>&1; then
  echo "==> building the offline test images"
  bash scripts/build-test-images.sh all
else
  echo "==> no Docker engine answers: skipping test images (Docker tests will skip)"
fi
echo "==> done"
