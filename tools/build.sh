#!/usr/bin/env bash
# Set up (tools/setup.sh) and build moesim in ./build (Release). Usage: tools/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
