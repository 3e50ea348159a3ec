#!/usr/bin/env bash
# What writing a trace or an HTML report costs (issue 18: under 20 % extra wall time on the
# shipped scenarios): each scenario run plainly, with --trace and with --html, and the overheads
# in percent. The three are run in rounds (plain, trace, html, plain, ...) so that a burst of
# noise on the machine hits all three alike, and the best time of each is kept: 7 rounds for runs
# under 0.5 s, 3 under 10 s, 1 from there (REPEAT=N: N rounds for every scenario). The trace covers
# the whole run unless TRACE_WINDOW=START:END is set (then --trace-window START:END).
# Every shipped scenario:
#   tools/bench/bench_outputs.sh $(find scenarios -name '*.json' -not -path '*/reference/*' \
#     -not -path '*/sweeps/*' | sort)
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
printf "%-60s %8s %8s %7s %8s %7s\n" scenario plain_s trace_s "+%" html_s "+%"
for s in "${scenarios[@]}"; do
  python3 - "$s" "$out" "${TRACE_WINDOW:-}" <<'PY'
import os, subprocess, sys, time
scenario, out, window = sys.argv[1], sys.argv[2], sys.argv[3]
trace = ["--trace", f"{out}/t.json"] + (["--trace-window", window] if window else [])
modes = {"plain": [], "trace": trace, "html": ["--html", f"{out}/r.html"]}
best = {m: float("inf") for m in modes}
def run(extra):
    t = time.perf_counter()
    subprocess.run(["build/moesim", "run", "--quiet", scenario] + extra, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t
rounds, done = os.environ.get("REPEAT"), 0
while True:
    for m, extra in modes.items():
        best[m] = min(best[m], run(extra))
    done += 1
    wanted = int(rounds) if rounds else (7 if best["plain"] < 0.5 else 3 if best["plain"] < 10 else 1)
    if done >= wanted:
        break
p, t, h = best["plain"], best["trace"], best["html"]
print(f"{scenario:60s} {p:8.2f} {t:8.2f} {100*(t/p-1):6.1f}% {h:8.2f} {100*(h/p-1):6.1f}%")
PY
done
