#!/usr/bin/env bash
# Installs the Debian packages moesim needs, if any is missing. Idempotent; needs root (or sudo).
# chromium-headless-shell renders the HTML reports in the tests (tests/scenarios/html_browser_test.cc);
# clang and libclang-rt-14-dev (its sanitizer and libFuzzer runtimes) build tools/run_sanitizers.sh.
set -euo pipefail
PACKAGES=(build-essential cmake ninja-build pkg-config libsimgrid-dev libboost-graph-dev
          nlohmann-json3-dev libabsl-dev catch2 libcli11-dev libopenmpi-dev openmpi-bin
          libjs-chart.js chromium-headless-shell clang libclang-rt-14-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
