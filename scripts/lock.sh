#!/usr/bin/env bash
# Regenerate the hash-pinned locks under requirements/ from pyproject.toml:
#   runtime.lock  the package's dependencies (what the GitHub workflows install)
#   dev.lock      the same plus the dev extra (scripts/install.sh, CI)
#   uv.lock       uv itself, which pip installs first to install the others fast
# Needs uv (pip install uv). Extra arguments go to every `uv pip compile`, e.g.
#   bash scripts/lock.sh --upgrade                   # move every pin to the newest release
#   bash scripts/lock.sh --upgrade-package pyyaml    # move one
set -euo pipefail
cd "$(dirname "$0")/.."
compile=(uv pip compile --quiet --python-version 3.11 --generate-hashes
  --custom-compile-command "bash scripts/lock.sh" "$@")
"${compile[@]}" pyproject.toml -o requirements/runtime.lock
"${compile[@]}" pyproject.toml --extra dev -o requirements/dev.lock
"${compile[@]}" requirements/uv.in -o requirements/uv.lock
