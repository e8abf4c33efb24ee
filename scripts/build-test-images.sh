#!/usr/bin/env bash
# Build the offline test images, without any registry, cached by tag.
#
#   scripts/build-test-images.sh [busybox|python|all]     (default: all)
#
# (a) challenge-runner/busybox:test   - Debian's busybox-static in a tiny root (~2 MB)
# (b) challenge-runner/python:bookworm - a Debian minbase root with python3 and numpy,
#     made with debootstrap (about a minute and ~300 MB; needs deb.debian.org or a mirror
#     in DEBIAN_MIRROR)
#
# Both are `docker import`ed from a root directory, so nothing is pulled. An image whose
# tag already exists is kept (delete it with `docker rmi TAG` to rebuild). Every image
# carries the label org.challenge-runner.test-image=1 so tests can tell them apart.
set -euo pipefail

BUSYBOX_TAG="challenge-runner/busybox:test"
PYTHON_TAG="challenge-runner/python:bookworm"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LABEL="org.challenge-runner.test-image=1"

log() { printf '[build-test-images] %s\n' "$*" >&2; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Install a Debian package when its command is missing (CI runners start bare).
ensure_command() {
    local cmd="$1" package="$2"
    if command -v "$cmd" >/dev/null 2>&1; then return; fi
    log "installing $package (for $cmd)"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$package" >/dev/null
}

# Files every test root needs: the nobody user the sandbox runs as, and a writable /tmp.
write_etc() {
    local root="$1"
    mkdir -p "$root/etc" "$root/tmp"
    chmod 1777 "$root/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' \
        >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

build_busybox() {
    if have_image "$BUSYBOX_TAG"; then log "$BUSYBOX_TAG exists; skipping"; return; fi
    ensure_command busybox busybox-static
    local busybox
    busybox="$(command -v busybox)"
    if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' \
        && [ -x /bin/busybox ]; then busybox=/bin/busybox; fi
    local root
    root="$(mktemp -d)"
    trap 'rm -rf "$root"' RETURN
    log "building $BUSYBOX_TAG from $busybox"
    mkdir -p "$root/bin"
    cp "$busybox" "$root/bin/busybox"
    local applet
    for applet in $("$root/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
    done
    write_etc "$root"
    tar -C "$root" -c . | docker import \
        --change 'CMD ["/bin/sh"]' --change "LABEL $LABEL" \
        --change 'ENV PATH=/bin' - "$BUSYBOX_TAG" >/dev/null
    log "built $BUSYBOX_TAG"
}

build_python() {
    if have_image "$PYTHON_TAG"; then log "$PYTHON_TAG exists; skipping"; return; fi
    ensure_command debootstrap debootstrap
    local root sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
    root="$(mktemp -d)"
    # debootstrap creates root-owned files: remove them with the same privileges.
    trap '$sudo rm -rf "$root"' RETURN
    log "debootstrap bookworm (minbase + python3, numpy) from $MIRROR; about a minute"
    $sudo debootstrap --variant=minbase --include=python3-minimal,python3-numpy \
        bookworm "$root" "$MIRROR" 2>&1 | while read -r line; do
            case "$line" in I:\ Retrieving*|I:\ Validating*) ;; *) log "$line" ;; esac
        done
    # Keep the image small: package lists, caches and docs are not needed to run.
    $sudo rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale
    log "importing $PYTHON_TAG"
    $sudo tar -C "$root" -c . | docker import \
        --change 'CMD ["/usr/bin/python3"]' --change "LABEL $LABEL" \
        --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - "$PYTHON_TAG" >/dev/null
    log "built $PYTHON_TAG ($(docker image inspect -f '{{.Size}}' "$PYTHON_TAG") bytes)"
}

case "${1:-all}" in
    busybox) build_busybox ;;
    python) build_python ;;
    all) build_busybox; build_python ;;
    *) echo "usage: $0 [busybox|python|all]" >&2; exit 2 ;;
esac
