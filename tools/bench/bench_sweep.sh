#!/usr/bin/env bash
# Speed of plan search (issue 16), on this machine:
#  1. the 1,008-plan DeepSeek-V3 sweep over 64-1,024 H200s (scenarios/sweeps/
#     deepseek-v3-h200-64-1024-gpus.json): screening alone, then screening + simulation of the
#     plans near the frontier, with --jobs 2;
#  2. plans per second on 1 and 2 MPI ranks (one job each) for the same sweep's simulations;
#  3. CPU per simulated step at the default fidelity on Vidur-comparable work
#     (tools/bench/mixtral-8x22b-h100-tp2.json; Vidur: 0.67-0.80 ms per step for Llama-2-70B TP2).
# Usage: tools/bench/bench_sweep.sh   (after tools/build.sh; MPI part skipped without mpirun)
set -euo pipefail
cd "$(dirname "$0")/../.."
SWEEP=scenarios/sweeps/deepseek-v3-h200-64-1024-gpus.json
out=$(mktemp -d)
secs() { python3 -c "import sys; print(f'{float(sys.argv[1]):.2f}')" "$1"; }
now() { date +%s.%N; }

t0=$(now); build/moesim sweep "$SWEEP" --screen-only --quiet --json "$out/screen.json"; t1=$(now)
echo "screen only: $(secs "$(echo "$t1 - $t0" | bc)") s for $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['plans']))" "$out/screen.json") plans"

t0=$(now); build/moesim sweep "$SWEEP" --jobs 2 --quiet --json "$out/sweep.json"; t1=$(now)
python3 - "$out/sweep.json" "$(echo "$t1 - $t0" | bc)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); c = d["counts"]
print(f"sweep (--jobs 2): {float(sys.argv[2]):.1f} s for {len(d['plans'])} plans: "
      f"{c['simulated']} simulated, {c['screened_out']} screened out, {c['skipped']} skipped, {c['failed']} failed")
PY

if command -v mpirun >/dev/null && [[ -x build/moesim-mpi-sweep ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  for np in 1 2; do
    t0=$(now)
    mpirun -np "$np" --oversubscribe build/moesim-mpi-sweep "$SWEEP" --jobs 1 --quiet \
      --csv "$out/mpi$np.csv"
    t1=$(now)
    sim=$(grep -c ",simulated," "$out/mpi$np.csv" || true)
    echo "MPI $np rank(s), 1 job each: $(secs "$(echo "$t1 - $t0" | bc)") s, $(python3 -c "print(f'{$sim / ($t1 - $t0):.1f}')") simulated plans/s"
  done
  cmp -s "$out/mpi1.csv" "$out/mpi2.csv" && echo "MPI tables on 1 and 2 ranks: identical"
fi

/usr/bin/time -f "%U %S" -o "$out/time" build/moesim run tools/bench/mixtral-8x22b-h100-tp2.json \
  --quiet --json "$out/step.json"
python3 - "$out/step.json" "$out/time" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); u, s = map(float, open(sys.argv[2]).read().split())
steps = d["batch"]["steps"]  # warmup_s 0: every step of the run
print(f"default fidelity ({d['plan']['fidelity']}, collectives {d['plan']['collectives']}): "
      f"{(u + s) * 1e3 / steps:.3f} ms of CPU per step over {steps} steps "
      f"(Vidur: 0.67-0.80 ms per step for Llama-2-70B TP2)")
PY
rm -rf "$out"
