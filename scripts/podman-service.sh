#!/usr/bin/env bash
# Rootful Podman for the sandbox suites (`pytest -m podman`), beside Docker, never touching it:
# installs Debian's podman and catatonit (Podman's init: without it every create fails with
# "container-init binary not found"), starts `podman system service` on a socket of its own,
# and imports the offline test images into Podman's store. Then a second service on its own
# socket whose containers all run under gVisor (Debian's runsc).
#
#   scripts/podman-service.sh           (as root, or with passwordless sudo)
#
# The socket is $CHALLENGE_RUNNER_PODMAN_HOST (default unix:///run/challenge-runner-podman.sock);
# point the runner at it with DOCKER_HOST=<that URL>. Safe to run again: a service already
# answering on the socket is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

url="${CHALLENGE_RUNNER_PODMAN_HOST:-unix:///run/challenge-runner-podman.sock}"
socket="${url#unix://}"
state_dir=/var/lib/challenge-runner-podman  # the services' working directory
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
[ -x /usr/bin/catatonit ] || [ -x /usr/libexec/podman/catatonit ] || need+=(catatonit)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

if ! curl -sf --unix-socket "$socket" http://podman/_ping >/dev/null 2>&1; then
  echo "==> starting podman system service on $url"
  $sudo rm -f "$socket"
  # --time 0: never exit when idle; the log goes beside the socket.
  # Started in a directory of its own: conmon leaves a file named "oom" in the service's
  # working directory when a container runs out of memory (it was the repository's).
  $sudo mkdir -p "$state_dir"
  $sudo nohup env --chdir="$state_dir" podman system service --time 0 "$url" \
    >"/tmp/challenge-runner-podman-$(id -u).log" 2>&1 &
  for _ in $(seq 50); do
    curl -sf --unix-socket "$socket" http://podman/_ping >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -sf --unix-socket "$socket" http://podman/_ping >/dev/null || {
    echo "podman system service did not answer on $url" >&2; exit 1; }
fi

echo "==> importing the offline test images into Podman"
TEST_IMAGE_ENGINES=podman bash scripts/build-test-images.sh all

# A second rootful service whose every container runs under gVisor: Podman's compatible API
# ignores the runtime asked per container, so the service's own --runtime is the only way
# (tests/test_sandbox_podman_gvisor.py; socket $CHALLENGE_RUNNER_PODMAN_GVISOR_HOST). Its
# --oci-seccomp makes runsc apply the sandbox's seccomp profile (the runner checks it on
# each container). It shares the rootful store, so the images above are there too.
gvisor_url="${CHALLENGE_RUNNER_PODMAN_GVISOR_HOST:-unix:///run/challenge-runner-podman-runsc.sock}"
gvisor_socket="${gvisor_url#unix://}"
if [ ! -x /usr/bin/runsc ]; then
  echo "==> installing runsc (Debian's gVisor)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends runsc \
    >/dev/null
fi
if ! $sudo curl -sf --unix-socket "$gvisor_socket" http://podman/_ping >/dev/null 2>&1; then
  echo "==> starting podman system service under gVisor on $gvisor_url"
  $sudo rm -f "$gvisor_socket"
  $sudo mkdir -p "$state_dir"
  $sudo nohup env --chdir="$state_dir" podman --runtime runsc --runtime-flag oci-seccomp \
    --runtime-flag network=none system service --time 0 "$gvisor_url" \
    >"/tmp/challenge-runner-podman-runsc-$(id -u).log" 2>&1 &
  for _ in $(seq 50); do
    $sudo curl -sf --unix-socket "$gvisor_socket" http://podman/_ping >/dev/null 2>&1 && break
    sleep 0.2
  done
  $sudo curl -sf --unix-socket "$gvisor_socket" http://podman/_ping >/dev/null || {
    echo "podman system service (gVisor) did not answer on $gvisor_url" >&2; exit 1; }
fi
