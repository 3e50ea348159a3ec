#!/usr/bin/env bash
# Rewrites tests/golden/ from the current build: every shipped scenario's headline metrics.
# Run after a change that is meant to move numbers, then say in the commit which moved and why.
# Usage: tools/update_goldens.sh [ctest -R regex]   (default: every golden test)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
cd build && MOESIM_UPDATE_GOLDEN=1 ctest -R "${1:-^golden:}" -j"$(nproc)" --output-on-failure
