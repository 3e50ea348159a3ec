#!/usr/bin/env bash
# Set up, build, and run the default scenario. Usage: tools/run_default.sh [extra moesim run flags]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
./build/moesim run scenarios/default.json "$@"
