#!/usr/bin/env bash
# gVisor for the sandbox (`container.runtime: runsc`) and its test suite (`pytest -m gvisor`):
# installs Debian's runsc and registers it with the running Docker engine WITHOUT stopping
# it: a `runtimes` entry is merged into the daemon's configuration file, then dockerd gets
# SIGHUP (runtimes are among the options it reloads live) and `docker info` must list it.
#
#   scripts/gvisor-runtime.sh           (as root, or with passwordless sudo)
#
# The runtime's name is $CHALLENGE_RUNNER_GVISOR_RUNTIME (default runsc). Its arguments:
# --oci-seccomp applies the container's seccomp profile inside gVisor too (without it runsc
# ignores the profile the runner asks for), --network=none leaves the sandbox loopback only
# (the runner's containers have no network anyway). Where it cannot work (not root and no
# sudo, no local dockerd, an entry of that name that is not this one) it says why and exits
# 0: the gVisor tests then skip, and CI (CHALLENGE_RUNNER_REQUIRE_GVISOR=1) fails on them.
# Safe to run again: an entry already in place is kept and nothing is reloaded.
set -euo pipefail

name="${CHALLENGE_RUNNER_GVISOR_RUNTIME:-runsc}"
runsc=/usr/bin/runsc
args='["--oci-seccomp", "--network=none"]'
skip() { echo "==> gVisor: skipped: $*" >&2; exit 0; }

docker info >/dev/null 2>&1 || skip "no Docker engine answers"
registered() { docker info --format '{{json .Runtimes}}' | python3 -c '
import json, sys
runtime = json.load(sys.stdin).get(sys.argv[1]) or {}
sys.exit(0 if runtime.get("path") == sys.argv[2] else 1)' "$name" "$runsc"; }
done_if_registered() {
  if [ -x "$runsc" ] && registered; then
    echo "==> gVisor: runtime $name is registered with Docker"
    exit 0
  fi
}
done_if_registered

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || skip "neither root nor passwordless sudo"
  sudo="sudo -n"
fi
if [ ! -x "$runsc" ]; then
  echo "==> installing runsc (Debian's gVisor)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends runsc \
    >/dev/null || skip "apt-get could not install runsc"
fi
done_if_registered

pid=$(pidof dockerd 2>/dev/null || true)
[ -n "$pid" ] && [ "${pid// /}" = "$pid" ] || skip "no single local dockerd process (found: '${pid}')"
# The daemon's own --config-file, else the default.
config=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's/^--config-file=//p' | tail -1)
config="${config:-/etc/docker/daemon.json}"

echo "==> gVisor: adding runtime $name to $config and reloading dockerd (SIGHUP, no restart)"
# Merge, never overwrite: every other key (and other runtimes) is kept as it is.
$sudo python3 - "$config" "$name" "$runsc" "$args" <<'EOF' || skip "cannot update $config"
import json, os, sys, tempfile
path, name, runsc, args = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
try:
    with open(path) as handle:
        config = json.load(handle)
except FileNotFoundError:
    config = {}
runtimes = config.setdefault("runtimes", {})
if name in runtimes and runtimes[name].get("path") != runsc:
    sys.exit(f"{path} already has a runtime {name!r} that is not {runsc}: "
             "set CHALLENGE_RUNNER_GVISOR_RUNTIME to another name")
runtimes[name] = {"path": runsc, "runtimeArgs": args}
os.makedirs(os.path.dirname(path), exist_ok=True)
fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".daemon.json.")
with os.fdopen(fd, "w") as handle:
    json.dump(config, handle, indent=2)
    handle.write("\n")
os.chmod(temp, 0o644)
os.replace(temp, path)
EOF
$sudo kill -HUP "$pid"
for _ in $(seq 50); do
  done_if_registered
  sleep 0.2
done
skip "dockerd did not load runtime $name after SIGHUP (see its log: journalctl -u docker)"
