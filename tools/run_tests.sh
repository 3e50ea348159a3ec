#!/usr/bin/env bash
# Set up, build, and run every test (CTest over the Catch2 suites). Usage: tools/run_tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
cd build && ctest --output-on-failure -j"$(nproc)"
