#!/usr/bin/env python3
"""Fits the MTP acceptance of InferenceX's benchmark prompts to the training set's MTP rows.

InferenceX benchmarks speculative decoding on its `random` dataset: random token ids, wrapped in
the model's chat template (`--use-chat-template`, required for MTP since InferenceX PR #392 and
passed by srt-slurm's sa-bench for every disaggregated row). Its own guidance says raw random
tokens "tank spec-decode acceptance" (SemiAnalysisAI/InferenceX
.claude/commands/add-model-hardware.md), and no row reports its acceptance. Until now every MTP
scenario assumed the DeepSeek-R1 acceptance lengths TensorRT-LLM measured on B200 at batch 1
(curve deepseek-r1-trtllm-mtp-b200), and the MTP rows came out 15-20 points faster than the
non-MTP rows of the same GPUs and stacks (an acceptance, not a step-time, signature: the step is
the same model on the same kernels).

Model: the per-position acceptance probabilities of the TensorRT-LLM curve, each scaled by one
factor alpha (draft i is accepted with alpha * p_i given drafts 1..i-1 were), so
AL(k) = 1 + sum_{i<=k} alpha^i prod_{j<=i} p_j. One parameter, fitted by simulation: for each
alpha of a grid (0.60 to 1.00 by 0.05, then by 0.01 within 0.04 of the best) every training
scenario is run with the curve of that alpha, and the alpha whose median signed TPOT error is
closest to zero is kept (the bias the acceptance explains; the median |error| is flat within a
point or two over alpha 0.75-0.9, so choosing by it would pick by noise).

Rows: the MTP scenarios of scenarios/reference/inferencex, except H100 and MI325X, whose non-MTP
rows carry a step-time error of their own (-26 % and -37 % median TPOT) that the fit would
otherwise put on acceptance. Split: a row is held out when the first byte of the SHA-1 of its
file name is odd. Writes tools/calibrate/mtp_acceptance_fit.json (alpha, the curve, train and
held-out errors before and after) and prints it.

  python3 tools/calibrate/fit_mtp_acceptance.py [--moesim build/moesim] [--jobs 2]
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SET_DIR = os.path.join(ROOT, "scenarios", "reference", "inferencex")
PRESETS = os.path.join(ROOT, "models", "presets")
BASE_CURVE = "deepseek-r1-trtllm-mtp-b200"
FIT_CURVE = "deepseek-r1-inferencex-random-chat"
EXCLUDED_GPUS = ("H100", "MI325X")
COARSE_ALPHAS = [round(0.60 + 0.05 * i, 2) for i in range(9)]  # 0.60 .. 1.00
FINE_STEP = 0.01  # then every 0.01 within 0.04 of the best coarse alpha
METRICS = ("latency_s.tpot.p50", "throughput.output_tok_per_s_per_gpu",
           "throughput.total_tok_per_s_per_gpu")


def conditional_probabilities(lengths):
    """p_i from AL(k): AL(k) - AL(k-1) = prod_{j<=k} p_j."""
    probs, prev_prod, prev_len = [], 1.0, 1.0
    for length in lengths:
        prod = length - prev_len
        probs.append(prod / prev_prod)
        prev_prod, prev_len = prod, length
    return probs


def scaled_lengths(lengths, alpha):
    out, prod, total = [], 1.0, 1.0
    for p in conditional_probabilities(lengths):
        prod *= alpha * p
        total += prod
        out.append(round(total, 4))
    return out


def mtp_scenarios():
    rows = []
    for name in sorted(os.listdir(SET_DIR)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(SET_DIR, name)) as f:
            s = json.load(f)
        if s.get("speculative", {}).get("method") != "mtp":
            continue
        if s["hardware"]["gpu"].get("preset") in EXCLUDED_GPUS:
            continue
        held_out = hashlib.sha1(name.encode()).digest()[0] % 2 == 1
        rows.append((name, s, held_out))
    return rows


def run(moesim, jobs, scenarios, lengths):
    """Runs `scenarios` with curve FIT_CURVE = `lengths`; returns {scenario: {metric: err %}}."""
    with tempfile.TemporaryDirectory() as tmp:
        presets = os.path.join(tmp, "presets")
        shutil.copytree(PRESETS, presets)
        curves_path = os.path.join(presets, "acceptance_curves.json")
        with open(curves_path) as f:
            curves = json.load(f)
        curves[FIT_CURVE] = {"description": "fit candidate",
                             "lengths": {"value": lengths, "source": "fit candidate"}}
        with open(curves_path, "w") as f:
            json.dump(curves, f)
        cases = os.path.join(tmp, "cases")
        os.mkdir(cases)
        for name, s, _ in scenarios:
            s = json.loads(json.dumps(s))
            s["speculative"]["acceptance"] = {"curve": FIT_CURVE}
            with open(os.path.join(cases, name), "w") as f:
                json.dump(s, f)
        out = os.path.join(tmp, "out.json")
        subprocess.run([moesim, "--presets", presets, "validate", cases, "--jobs", str(jobs),
                        "--summary-only", "--json", out], check=False,
                       stdout=subprocess.DEVNULL)
        with open(out) as f:
            report = json.load(f)
    errors = {}
    for row in report["rows"]:
        errors.setdefault(row["scenario"], {})[row["metric"]] = row["error_pct"]
    return errors


def summary(errors, names):
    out = {}
    for metric in METRICS:
        vals = [errors[n][metric] for n in names if n in errors and metric in errors[n]]
        out[metric] = {"rows": len(vals),
                       "median_abs_pct": round(statistics.median(abs(v) for v in vals), 1),
                       "median_signed_pct": round(statistics.median(vals), 1),
                       "worst_abs_pct": round(max(abs(v) for v in vals), 1)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moesim", default=os.path.join(ROOT, "build", "moesim"))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with open(os.path.join(PRESETS, "acceptance_curves.json")) as f:
        base = json.load(f)[BASE_CURVE]["lengths"]["value"]
    rows = mtp_scenarios()
    train = [r for r in rows if not r[2]]
    test = [r for r in rows if r[2]]
    name_of = lambda r: "inferencex-dsr1-" + r[0][:-len(".json")]
    train_names = [name_of(r) for r in train]
    test_names = [name_of(r) for r in test]

    grid = {}

    def evaluate(alpha):
        if alpha in grid:
            return
        errs = run(args.moesim, args.jobs, train, scaled_lengths(base, alpha))
        s = summary(errs, train_names)
        grid[alpha] = {"alpha": alpha, "train_tpot_median_abs_pct":
                       s["latency_s.tpot.p50"]["median_abs_pct"],
                       "train_tpot_median_signed_pct": s["latency_s.tpot.p50"]["median_signed_pct"]}
        print(json.dumps(grid[alpha]), flush=True)

    # The alpha whose training bias is closest to zero (ties: the smaller median |error|).
    pick = lambda: min(grid.values(), key=lambda g: (abs(g["train_tpot_median_signed_pct"]),
                                                     g["train_tpot_median_abs_pct"]))
    for alpha in COARSE_ALPHAS:
        evaluate(alpha)
    centre = pick()["alpha"]
    for i in range(-4, 5):
        alpha = round(centre + i * FINE_STEP, 2)
        if 0 < alpha <= 1:
            evaluate(alpha)
    best = pick()
    grid = [grid[a] for a in sorted(grid)]
    alpha = best["alpha"]
    lengths = scaled_lengths(base, alpha)

    before = run(args.moesim, args.jobs, rows, base)
    after = run(args.moesim, args.jobs, rows, lengths)
    result = {
        "curve": FIT_CURVE,
        "base_curve": BASE_CURVE,
        "alpha": alpha,
        "lengths": lengths,
        "base_lengths": base,
        "excluded_gpus": list(EXCLUDED_GPUS),
        "train_rows": sorted(r[0] for r in train),
        "held_out_rows": sorted(r[0] for r in test),
        "grid": grid,
        "train": {"before": summary(before, train_names), "after": summary(after, train_names)},
        "held_out": {"before": summary(before, test_names), "after": summary(after, test_names)},
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mtp_acceptance_fit.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps({k: result[k] for k in ("alpha", "lengths", "train", "held_out")}, indent=2))


if __name__ == "__main__":
    main()
