#!/usr/bin/env bash
# Build the offline test images, without any registry, cached by tag.
#
#   scripts/build-test-images.sh [busybox|python|all]     (default: all)
#   TEST_IMAGE_ENGINES="docker podman" scripts/build-test-images.sh   (default: docker)
#
# (a) challenge-runner/busybox:test   - Debian's busybox-static in a tiny root (~2 MB)
# (b) challenge-runner/python:bookworm - a Debian minbase root with python3, numpy and pandas,
#     made with debootstrap (about a minute and ~300 MB; needs deb.debian.org or a mirror
#     in DEBIAN_MIRROR)
# (c) python:3.11-slim - (b) labelled as the offline stand-in for the pinned base that the
#     example container submission names (runner.images.bases explains stand-ins; Docker only)
#
# (a) and (b) are imported (`docker import`, `podman import`: the same root into every engine
# listed in TEST_IMAGE_ENGINES) from a root directory, so nothing is pulled. The root
# directory is 0755 so the sandbox user (uid 65534) can traverse `/` under every storage
# driver (Podman's vfs refuses a 0700 root). An image whose tag already exists in an engine
# is kept (delete it with `docker rmi TAG` / `podman rmi TAG` to rebuild). Every image
# carries the label org.challenge-runner.test-image=1 so tests can tell them apart.
set -euo pipefail

BUSYBOX_TAG="challenge-runner/busybox:test"
PYTHON_TAG="challenge-runner/python:bookworm"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LABEL="org.challenge-runner.test-image=1"
read -r -a ENGINES <<<"${TEST_IMAGE_ENGINES:-docker}"
# Keep equal to the FROM of submissions/breast-cancer/hubot/model/Dockerfile.
PYTHON_BASE="python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7"

log() { printf '[build-test-images] %s\n' "$*" >&2; }

# The engines (of ENGINES) that lack image $1, one per line.
engines_without() {
    local engine
    for engine in "${ENGINES[@]}"; do
        "$engine" image inspect "$1" >/dev/null 2>&1 || echo "$engine"
    done
}

# Import the root directory $1 as image $2 into each engine of $3.. (run as $sudo: debootstrap
# roots are root-owned). CMD and ENV come from $CMD_JSON and $ENV_PATH.
import_root() {
    local root="$1" tag="$2" engine
    shift 2
    $sudo chmod 0755 "$root"  # mktemp -d makes it 0700: uid 65534 could not traverse /
    for engine in "$@"; do
        $sudo tar -C "$root" -c . | "$engine" import \
            --change "CMD $CMD_JSON" --change "LABEL $LABEL" \
            --change "ENV PATH=$ENV_PATH" - "$tag" >/dev/null
        log "imported $tag into $engine"
    done
}

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
    local engines
    mapfile -t engines < <(engines_without "$BUSYBOX_TAG")
    if [ ${#engines[@]} -eq 0 ]; then log "$BUSYBOX_TAG exists; skipping"; return; fi
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
    sudo="" CMD_JSON='["/bin/sh"]' ENV_PATH=/bin import_root "$root" "$BUSYBOX_TAG" "${engines[@]}"
}

build_python() {
    local engines
    mapfile -t engines < <(engines_without "$PYTHON_TAG")
    if [ ${#engines[@]} -eq 0 ]; then log "$PYTHON_TAG exists; skipping"; return; fi
    ensure_command debootstrap debootstrap
    local root sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
    root="$(mktemp -d)"
    # debootstrap creates root-owned files: remove them with the same privileges.
    trap '$sudo rm -rf "$root"' RETURN
    log "debootstrap bookworm (minbase + python3, numpy, pandas) from $MIRROR; about a minute"
    $sudo debootstrap --variant=minbase --include=python3-minimal,python3-numpy,python3-pandas \
        bookworm "$root" "$MIRROR" 2>&1 | while read -r line; do
            case "$line" in I:\ Retrieving*|I:\ Validating*) ;; *) log "$line" ;; esac
        done
    # Keep the image small: package lists, caches and docs are not needed to run.
    $sudo rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale
    CMD_JSON='["/usr/bin/python3"]' ENV_PATH=/usr/local/bin:/usr/bin:/bin \
        import_root "$root" "$PYTHON_TAG" "${engines[@]}"
}

python_stand_in() {
    local tag="${PYTHON_BASE%@*}"
    case " ${ENGINES[*]} " in *" docker "*) ;; *) return ;; esac  # Docker only (see above)
    if docker image inspect "$tag" >/dev/null 2>&1; then log "$tag exists; skipping"; return; fi
    printf 'FROM %s\nLABEL org.challenge-runner.stands-for=%s\n' "$PYTHON_TAG" "$PYTHON_BASE" \
        | docker build --quiet --tag "$tag" - >/dev/null
    log "tagged the stand-in $tag for $PYTHON_BASE"
}

case "${1:-all}" in
    busybox) build_busybox ;;
    python) build_python; python_stand_in ;;
    all) build_busybox; build_python; python_stand_in ;;
    *) echo "usage: $0 [busybox|python|all]" >&2; exit 2 ;;
esac
