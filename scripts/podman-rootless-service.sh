#!/usr/bin/env bash
# Rootless Podman for the refusal tests (`pytest -m rootless`): the runner must refuse a
# rootless engine on cgroup v1, where Podman ignores every resource limit while its /info
# claims them. Creates an unprivileged user with subordinate uid/gid ranges, starts
# `podman system service` AS that user on a socket of its own, and loads the busybox test
# image into that user's store (from rootful Podman's: run scripts/podman-service.sh first).
#
#   scripts/podman-rootless-service.sh    (as root, or with passwordless sudo)
#
# The user is $CHALLENGE_RUNNER_ROOTLESS_USER (default challenge-runner-rootless), its home
# /var/lib/<user>, its XDG_RUNTIME_DIR /run/<user> (0700, its own: there is no login session
# to make one). The socket is /run/<user>/podman.sock, which only root and the user can open;
# tests find it through $CHALLENGE_RUNNER_ROOTLESS_HOST (default unix:///run/<user>/podman.sock).
# Neither the Docker engine nor the rootful Podman service is touched. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

user="${CHALLENGE_RUNNER_ROOTLESS_USER:-challenge-runner-rootless}"
home="/var/lib/$user"
runtime_dir="/run/$user"
socket="$runtime_dir/podman.sock"
image="challenge-runner/busybox:test"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"

# uidmap: newuidmap/newgidmap map the subordinate ranges; slirp4netns: Podman's default
# rootless network (the runner's containers use --network none; a plain `podman run` needs it).
need=()
command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
command -v slirp4netns >/dev/null 2>&1 || need+=(slirp4netns)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
fi

if ! id "$user" >/dev/null 2>&1; then
  echo "==> creating the unprivileged user $user (subordinate ids for its user namespace)"
  $sudo useradd --system --add-subids-for-system --create-home --home-dir "$home" \
    --shell /usr/sbin/nologin "$user"
fi
# A user created before (or by another tool) may lack the ranges: add 65536 of each.
if ! grep -q "^$user:" /etc/subuid || ! grep -q "^$user:" /etc/subgid; then
  last=$(cat /etc/subuid /etc/subgid | awk -F: '{ e = $2 + $3; if (e > m) m = e } END { print m + 0 }')
  start=$(( last > 100000 ? last : 100000 ))
  $sudo usermod --add-subuids "$start-$(( start + 65535 ))" \
    --add-subgids "$start-$(( start + 65535 ))" "$user"
fi
$sudo install -d -m 0700 -o "$user" -g "$(id -gn "$user")" "$runtime_dir"

as_user() {
  # A clean environment: the user's own HOME and runtime directory, nothing of the caller's.
  $sudo runuser -u "$user" -- env -i HOME="$home" XDG_RUNTIME_DIR="$runtime_dir" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

ping() { $sudo curl -sf --unix-socket "$socket" http://podman/_ping >/dev/null 2>&1; }

if ! ping; then
  echo "==> starting rootless podman system service (as $user) on unix://$socket"
  $sudo rm -f "$socket"
  # --time 0: never exit when idle. In the user's home: conmon leaves an "oom" file in the
  # service's working directory when a container runs out of memory.
  as_user setsid nohup env --chdir="$home" podman system service --time 0 "unix://$socket" \
    >"/tmp/challenge-runner-podman-rootless.log" 2>&1 </dev/null &
  for _ in $(seq 50); do ping && break; sleep 0.2; done
  ping || { echo "rootless podman system service did not answer on $socket" >&2
            cat /tmp/challenge-runner-podman-rootless.log >&2; exit 1; }
fi

if ! (cd "$home" && as_user podman --url "unix://$socket" image exists "$image"); then
  echo "==> loading $image into $user's Podman store"
  $sudo podman image save "$image" | (cd "$home" && as_user podman --url "unix://$socket" load -q) >/dev/null
fi
