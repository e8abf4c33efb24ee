#!/usr/bin/env bash
# A small KVM guest with cgroup v2, for what this host cannot show: rootless Podman with
# delegated cgroup controllers (`pytest -m rootless` there). Hosts like this one run cgroup v1
# with every controller bound, so v2 needs a kernel of its own.
#
#   scripts/cgroup2-vm.sh build                  build the guest (cached; ~3 min the first time)
#   scripts/cgroup2-vm.sh status                 print where the guest is, or fail: not built
#   scripts/cgroup2-vm.sh run [--images T..] -- CMD...
#                                                boot it, run CMD as the unprivileged user in a
#                                                copy of this repository, power off; exits
#                                                with CMD's exit code
#
# The guest is Debian bookworm (debootstrap, DEBIAN_MIRROR or deb.debian.org): its own kernel,
# systemd (cgroup v2, the unified hierarchy), Podman 4.3 with catatonit, and the user `runner`
# (uid 1000, subordinate ids, lingering) whose systemd instance starts rootless Podman's
# socket-activated API service at /run/user/1000/podman/podman.sock. Its drop-in delegates
# cpu, memory and pids (and io, cpuset) to the user, as hosting.md asks of a rootless host.
# The Python dependencies come from requirements/dev.lock (uv, for CPython 3.11 on
# manylinux x86_64) into /opt/site. Built as root (or with passwordless sudo) into
# $CHALLENGE_RUNNER_VM_DIR (default /var/cache/challenge-runner/vm/<key>): vmlinuz,
# initrd.img and rootfs.img, an ext4 image made without mounting anything (mkfs.ext4 -d).
# The key hashes the part of this script that makes the guest and the lock: changing either
# builds a new guest.
#
# A run boots the image read-only (qemu -snapshot: nothing a run does survives it), shares
# this repository read-only and a scratch directory (9p), loads the images named by --images
# (saved from the host's Docker engine) into the user's Podman store, and runs CMD with
# DOCKER_HOST pointing at the rootless service. The guest has no network device. Its console
# goes to $share/console.log; CMD's output to standard output.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
MEMORY="${CHALLENGE_RUNNER_VM_MEMORY:-4096}"
BOOT_TIMEOUT="${CHALLENGE_RUNNER_VM_TIMEOUT:-2700}"  # seconds for the whole run, boot included
# tcg: software emulation, slower but sure. kvm hangs at boot where nested virtualisation is
# half there (/dev/kvm opens, the guest never gets past "Probing EDD": seen on this project's
# CI machines); set CHALLENGE_RUNNER_VM_ACCEL=kvm where it works.
ACCEL="${CHALLENGE_RUNNER_VM_ACCEL:-tcg}"
# The guest's key: what makes it (the part of this script between the guest markers) and the lock.
key=$( { sed -n '/^# >>> guest/,/^# <<< guest/p' "$0"; cat requirements/dev.lock; } \
  | sha256sum | cut -c1-16)
vm_dir="${CHALLENGE_RUNNER_VM_DIR:-/var/cache/challenge-runner/vm/$key}"
DEB_CACHE=/var/cache/challenge-runner/debs
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"

log() { printf '[cgroup2-vm] %s\n' "$*" >&2; }

need_packages() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >/dev/null
  fi
}

# >>> guest: everything that makes the guest, down to the closing marker (its cache key)
# The guest's own files: fstab, the user, delegation, Podman's socket, the job service.
configure_root() {
  local root="$1"
  $sudo tee "$root/etc/fstab" >/dev/null <<'EOF'
/dev/vda / ext4 rw,noatime 0 1
repo /mnt/repo 9p trans=virtio,version=9p2000.L,ro,nofail 0 0
share /mnt/share 9p trans=virtio,version=9p2000.L,nofail 0 0
EOF
  echo cgroup2-vm | $sudo tee "$root/etc/hostname" >/dev/null
  $sudo mkdir -p "$root/mnt/repo" "$root/mnt/share"
  $sudo chroot "$root" useradd --uid 1000 --create-home --shell /bin/bash runner
  grep -q '^runner:' "$root/etc/subuid" 2>/dev/null \
    || echo 'runner:100000:65536' | $sudo tee -a "$root/etc/subuid" "$root/etc/subgid" >/dev/null
  $sudo mkdir -p "$root/var/lib/systemd/linger"
  $sudo touch "$root/var/lib/systemd/linger/runner"  # its systemd runs from boot, no login
  $sudo mkdir -p "$root/etc/systemd/system/user@.service.d"
  $sudo tee "$root/etc/systemd/system/user@.service.d/delegate.conf" >/dev/null <<'EOF'
[Service]
Delegate=cpu cpuset io memory pids
EOF
  local wants="$root/home/runner/.config/systemd/user/sockets.target.wants"
  $sudo mkdir -p "$wants"
  $sudo ln -sf /usr/lib/systemd/user/podman.socket "$wants/podman.socket"
  $sudo chroot "$root" chown -R runner:runner /home/runner/.config
  $sudo tee "$root/usr/local/sbin/cgroup2-vm-job" >/dev/null <<'EOF'
#!/bin/bash
# Boot job: load the images, run /mnt/share/job.sh as runner, write its code, power off.
set -u
exec >/mnt/share/job.log 2>&1
code=1
trap 'echo "$code" >/mnt/share/rc; sync; systemctl poweroff --no-block' EXIT
as_runner() {
  runuser -u runner -- env -i HOME=/home/runner USER=runner XDG_RUNTIME_DIR=/run/user/1000 \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/opt/site DOCKER_HOST=unix:///run/user/1000/podman/podman.sock "$@"
}
for _ in $(seq 100); do [ -S /run/user/1000/podman/podman.sock ] && break; sleep 0.2; done
for image in /mnt/share/images/*.tar; do
  [ -e "$image" ] || continue
  as_runner podman load -q -i "$image" || exit
done
as_runner cp -r /mnt/repo /home/runner/repo || exit
as_runner bash -c 'cd /home/runner/repo && bash /mnt/share/job.sh'
code=$?
EOF
  $sudo chmod 0755 "$root/usr/local/sbin/cgroup2-vm-job"
  $sudo tee "$root/etc/systemd/system/cgroup2-vm-job.service" >/dev/null <<'EOF'
[Unit]
Description=challenge-runner guest job
After=multi-user.target user@1000.service mnt-share.mount mnt-repo.mount
Wants=user@1000.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/cgroup2-vm-job
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
  $sudo ln -sf /etc/systemd/system/cgroup2-vm-job.service \
    "$root/etc/systemd/system/multi-user.target.wants/cgroup2-vm-job.service"
  # No getty on the console (the job's output shares it), no network to wait for.
  $sudo chroot "$root" systemctl mask serial-getty@ttyS0.service getty@tty1.service \
    systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1
}

build() {
  if [ -f "$vm_dir/rootfs.img" ]; then log "guest ready in $vm_dir"; return; fi
  need_packages
  local work
  work=$($sudo mktemp -d /var/tmp/cgroup2-vm.XXXXXX)
  local root="$work/root"
  log "debootstrap bookworm with a kernel, systemd and Podman into $root"
  # containernetworking-plugins: containers-common needs a container-network-stack, a
  # virtual package debootstrap cannot choose. The .debs are kept for the next build.
  $sudo mkdir -p "$DEB_CACHE"
  $sudo debootstrap --variant=minbase --cache-dir="$DEB_CACHE" \
    --include=linux-image-amd64,systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,podman,containernetworking-plugins,catatonit,uidmap,kmod,procps,python3,e2fsprogs \
    bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  log "the Python dependencies (requirements/dev.lock) into /opt/site"
  $sudo python3 -m uv pip install -q --require-hashes --target "$root/opt/site" \
    --python-version 3.11 --python-platform x86_64-manylinux_2_36 -r requirements/dev.lock
  configure_root "$root"
  $sudo mkdir -p "$vm_dir.tmp"
  $sudo cp "$root"/boot/vmlinuz-* "$vm_dir.tmp/vmlinuz"
  $sudo cp "$root"/boot/initrd.img-* "$vm_dir.tmp/initrd.img"
  $sudo chmod 0644 "$vm_dir.tmp/vmlinuz" "$vm_dir.tmp/initrd.img"
  log "making the ext4 image"
  local size_mb
  size_mb=$(( $($sudo du -sm "$root" | cut -f1) * 3 / 2 + 4096 ))
  $sudo mkfs.ext4 -q -L root -d "$root" "$vm_dir.tmp/rootfs.img" "${size_mb}M"
  $sudo rm -rf "$work"
  $sudo rm -rf "$vm_dir"
  $sudo mv "$vm_dir.tmp" "$vm_dir"
  log "guest ready in $vm_dir"
}

# <<< guest

run() {
  local images=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --images) shift; while [ $# -gt 0 ] && [ "$1" != -- ]; do images+=("$1"); shift; done ;;
      --) shift; break ;;
      *) echo "usage: $0 run [--images TAG...] -- CMD..." >&2; exit 2 ;;
    esac
  done
  [ $# -gt 0 ] || { echo "usage: $0 run [--images TAG...] -- CMD..." >&2; exit 2; }
  build
  # Killed or interrupted, the run still stops its guest and removes its scratch folder.
  share=$(mktemp -d /var/tmp/cgroup2-vm-share.XXXXXX)
  trap 'cleanup' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  chmod 0755 "$share"
  mkdir "$share/images"
  local i=0 tag
  for tag in "${images[@]}"; do
    docker save -o "$share/images/$i.tar" "$tag"
    chmod 0644 "$share/images/$i.tar"  # the guest loads it as its unprivileged user
    i=$((i + 1))
  done
  printf '%q ' "$@" >"$share/job.sh"
  log "booting the guest (console: $share/console.log)"
  local started=$SECONDS
  local cpu=max  # under tcg: every x86-64 feature qemu emulates (numpy's wheels need v2)
  [ "$ACCEL" = kvm ] && cpu=host
  timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -cpu "$cpu" -smp "$(nproc)" -m "$MEMORY" \
    -kernel "$vm_dir/vmlinuz" -initrd "$vm_dir/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 quiet systemd.unified_cgroup_hierarchy=1" \
    -drive "file=$vm_dir/rootfs.img,format=raw,if=virtio,snapshot=on" \
    -virtfs "local,path=$repo,mount_tag=repo,security_model=none,readonly=on" \
    -virtfs "local,path=$share,mount_tag=share,security_model=none" \
    -nic none -display none -serial "file:$share/console.log" -no-reboot &
  qemu=$!  # in the background: a signal's trap runs now, not when the guest ends
  wait "$qemu" || true
  qemu=""
  cat "$share/job.log" 2>/dev/null || true
  local code
  code=$(cat "$share/rc" 2>/dev/null || echo "")
  if [ -z "$code" ]; then
    log "the guest ended without running the job ($(( SECONDS - started )) s); its console:"
    tail -40 "$share/console.log" >&2
    return 1
  fi
  log "guest job exited with $code after $(( SECONDS - started )) s"
  return "$code"
}

share="" qemu=""
cleanup() {
  if [ -n "$qemu" ]; then kill "$qemu" 2>/dev/null || true; wait "$qemu" 2>/dev/null || true; fi
  if [ -n "$share" ]; then rm -rf "$share"; fi
}

case "${1:-}" in
  build) build ;;
  status)
    [ -f "$vm_dir/rootfs.img" ] || { echo "no guest in $vm_dir (run: $0 build)" >&2; exit 1; }
    echo "$vm_dir" ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 build | status | run [--images TAG...] -- CMD..." >&2; exit 2 ;;
esac
