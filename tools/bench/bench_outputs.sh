#!/usr/bin/env bash
# What writing a trace or an HTML report costs (issue 18: under 20 % extra wall time on the
# shipped scenarios): each scenario run plainly, with --trace and with --html, best of three
# wall times each (of one for runs of 2 s and more, where the spread is small against the
# run), and the overheads in percent. The trace covers the whole run unless
# TRACE_WINDOW=START:END is set (then --trace-window START:END).
# REPEAT=N takes the best of N instead. Every shipped scenario:
# tools/bench/bench_outputs.sh $(find scenarios -name '*.json' -not -path '*/reference/*'
# -not -path '*/sweeps/*' | sort)
# Usage: [TRACE_WINDOW=S:E] [REPEAT=N] tools/bench/bench_outputs.sh [SCENARIO ...]
# (after tools/build.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  scenarios=(scenarios/default.json scenarios/qwen3-235b-h200-tp8.json
             scenarios/disaggregation/deepseek-v3-h200-1p1d-tp8.json
             scenarios/experts/deepseek-v3-h200-dp-attention-ep64.json
             scenarios/disaggregation/deepseek-v3-h200-afd-2to1-400gbe.json)
fi
out=$(mktemp -d)
best() {  # best of REPEAT (3; 1 from 2 s) wall times of "build/moesim run --quiet $*"
  python3 - "$@" <<'PY'
import subprocess, sys, time
times = []
import os
repeat = os.environ.get("REPEAT")
while True:
    t = time.perf_counter()
    subprocess.run(["build/moesim", "run", "--quiet"] + sys.argv[1:], check=True,
                   stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
    wanted = int(repeat) if repeat else (3 if times[0] < 2 else 1)
    if len(times) >= wanted:
        break
print(f"{min(times):.3f}")
PY
}
printf "%-60s %8s %8s %7s %8s %7s\n" scenario plain_s trace_s "+%" html_s "+%"
for s in "${scenarios[@]}"; do
  plain=$(best "$s")
  window=()
  [[ -n "${TRACE_WINDOW:-}" ]] && window=(--trace-window "$TRACE_WINDOW")
  trace=$(best "$s" --trace "$out/t.json" "${window[@]}")
  html=$(best "$s" --html "$out/r.html")
  python3 -c "import sys; p,t,h=map(float,sys.argv[2:]); print(f'{sys.argv[1]:60s} {p:8.2f} {t:8.2f} {100*(t/p-1):6.1f}% {h:8.2f} {100*(h/p-1):6.1f}%')" \
    "$s" "$plain" "$trace" "$html"
done
