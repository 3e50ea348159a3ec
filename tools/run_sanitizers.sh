#!/usr/bin/env bash
# Sanitizer and fuzzing checks (issue 17), in ./build-asan with clang: everything instrumented with
# AddressSanitizer + UndefinedBehaviorSanitizer (any report stops the program) and libFuzzer's
# coverage. Then, in turn:
#   1. the test suites under the sanitizers (CI: every unit, scenario and CLI test but the
#      golden-output runs, which repeat the shipped scenarios' simulations 375 times, the MPI and
#      calibration suites, and two cases named below that take minutes under ASan; --full: all);
#   2. the scenario fuzzer (tests/fuzz/scenario_fuzzer.cc) on a corpus seeded with the shipped
#      scenarios, for FUZZ_SECONDS (default 120);
#   3. the whole-program mutation run (tools/fuzz/mutation_run.cc): mutated shipped scenarios
#      through the sanitizer build's `moesim run`, for MUTATION_SECONDS (default 240), each run
#      capped at 2 simulated seconds and 120 wall seconds.
# Any test failure, sanitizer report, fuzzer crash or leak, broken invariant, internal error or
# hang fails the script. Findings are kept under build-asan/findings/.
# Usage: tools/run_sanitizers.sh [--full]
set -euo pipefail
cd "$(dirname "$0")/.."
FULL=0
[[ "${1:-}" == "--full" ]] && FULL=1
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
MUTATION_SECONDS=${MUTATION_SECONDS:-240}
tools/setup.sh

# -O1 and line tables only: the sanitizer build is for finding faults, and compiles in about
# half the time of -O2 -g on a 2-core machine.
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -gline-tables-only" -DMOESIM_SANITIZE=ON -DMOESIM_FUZZ=ON \
  >/dev/null
TARGETS=(moesim moesim_scenario_fuzzer moesim_scenario_fuzz_replay moesim_mutation_run
         moesim_models_tests moesim_topology_tests moesim_plan_tests moesim_engine_tests)
((FULL)) && TARGETS=(all)
cmake --build build-asan -j"$(nproc)" --target "${TARGETS[@]}"

# LeakSanitizer on. SimGrid switches actor stacks itself (ASan warns once that it ignores
# those switches); use-after-return detection stays off for that reason.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== tests under ASan + UBSan"
if ((FULL)); then
  (cd build-asan && ctest --output-on-failure -j"$(nproc)")
else
  # Two cases run past CTest's 300 s under the sanitizers (each simulates a large plan twice):
  # they run in the normal build and with --full.
  (cd build-asan && ctest --output-on-failure -j"$(nproc)" \
     -E "^golden:|_NOT_BUILT|^afd: analytic hops agree with SimGrid|^seed 004: a 2T FP8 rollout")
fi

echo "== scenario fuzzer, ${FUZZ_SECONDS} s"
mkdir -p build-asan/findings build-asan/fuzz-corpus
find scenarios -name '*.json' -not -path 'scenarios/sweeps/*' -exec cp {} build-asan/fuzz-corpus/ \;
build-asan/moesim_scenario_fuzzer -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=30 \
  -rss_limit_mb=4096 -artifact_prefix=build-asan/findings/ -print_final_stats=1 \
  build-asan/fuzz-corpus 2>&1 | tail -n 20

echo "== whole-program mutation run, ${MUTATION_SECONDS} s"
build-asan/moesim_mutation_run --moesim build-asan/moesim --scenarios scenarios \
  --out build-asan/findings/mutation --runs 100000 --seconds "$MUTATION_SECONDS" --timeout 120
