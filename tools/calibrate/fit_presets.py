#!/usr/bin/env python3
"""Fits the few preset constants that no kernel table pins down to the InferenceX training set,
and reports the error on rows held out of each fit.

Developer tool (needs python3 and a built `build/moesim`; CI does not run it). The fitted values
and the held-out errors it prints are what models/presets/*.json cite and what the README's
calibration table shows.

    tools/calibrate/fit_presets.py [--spec tools/calibrate/fit_spec.json] [--out FILE]
                                   [--splits all,half,gpu,stack] [--apply [--reuse]]

How: each parameter of the spec sets one or more preset leaves (JSON paths in a preset file).
For a candidate value set, the presets are copied to a temporary folder with those leaves
replaced, the scenarios of the fit's rows run through `moesim --presets DIR validate` (one
process per scenario, two at a time), and the objective is the mean over the fit's rows and
metrics of min(|error|, 50 %) (a capped mean: robust to the few rows that no constant explains).
Coordinate descent with a golden-section search per parameter inside its bounds, `rounds`
passes. Splits:
  all    fit on every row (the values --apply writes), error on the same rows;
  half   fit on the rows whose sorted index is even, error on the odd ones;
  gpu    leave one GPU type out: fit on the others, error on it (each GPU in turn);
  stack  leave one serving stack out (each stack in turn).
A parameter whose rows a split leaves empty keeps its preset value.
--apply writes the 'all' fit into models/presets (with a FITTED note in each leaf's source);
with --reuse it takes that fit from the --out file of an earlier run instead of fitting again.
"""
import argparse
import copy
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def is_wrapper(node):
    return isinstance(node, dict) and set(node) == {"value", "source"}


def walk(doc, path):
    """(parent, key, nearest enclosing {"value", "source"} wrapper or None) of a leaf."""
    node, wrapper = doc, None
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
        if is_wrapper(node):
            wrapper, node = node, node["value"]
    return node, keys[-1], wrapper


def set_leaf(doc, path, value):
    parent, key, _ = walk(doc, path)
    if is_wrapper(parent[key]):
        parent[key]["value"] = value
    else:
        parent[key] = value


def note_source(doc, path, note):
    parent, key, wrapper = walk(doc, path)
    target = parent[key] if is_wrapper(parent[key]) else wrapper
    if target is not None and note not in target["source"]:
        target["source"] = target["source"] + ". " + note


class Evaluator:
    def __init__(self, spec, moesim, jobs):
        self.spec = spec
        self.moesim = moesim
        self.jobs = jobs
        self.presets = {f: load_json(os.path.join(ROOT, "models/presets", f))
                        for f in ("gpus.json", "models.json", "runtimes.json", "fabrics.json")}
        self.cache = {}

    def run(self, values, scenarios):
        """Validation rows of `scenarios` with parameter `values` ({name: value})."""
        key = (tuple(sorted(values.items())), tuple(sorted(scenarios)))
        if key in self.cache:
            return self.cache[key]
        tmp = tempfile.mkdtemp(prefix="moesim-fit-")
        try:
            pdir = os.path.join(tmp, "presets")
            os.makedirs(pdir)
            docs = copy.deepcopy(self.presets)
            for p in self.spec["parameters"]:
                if p["name"] not in values:
                    continue
                for leaf in p["leaves"]:
                    set_leaf(docs[leaf["file"]], leaf["path"], values[p["name"]])
            for f, d in docs.items():
                with open(os.path.join(pdir, f), "w", encoding="utf-8") as out:
                    json.dump(d, out, indent=1, ensure_ascii=False)
            sdir = os.path.join(tmp, "scenarios")
            os.makedirs(sdir)
            for s in scenarios:
                os.symlink(os.path.join(ROOT, self.spec["scenarios"], s), os.path.join(sdir, s))
            out = os.path.join(tmp, "rows.json")
            subprocess.run([self.moesim, "--presets", pdir, "validate", sdir, "--summary-only",
                            "--jobs", str(self.jobs), "--json", out],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rows = [r for r in load_json(out)["rows"] if r["metric"] in self.spec["metrics"]]
        finally:
            shutil.rmtree(tmp)
        self.cache[key] = rows
        return rows


def objective(rows):
    errs = [min(abs(r["error_pct"]), 50.0) for r in rows]
    return sum(errs) / len(errs) if errs else 0.0


def summary(rows):
    out = {}
    for metric in sorted({r["metric"] for r in rows}):
        e = sorted(abs(r["error_pct"]) for r in rows if r["metric"] == metric)
        n = len(e)
        med = (e[(n - 1) // 2] + e[n // 2]) / 2 if n else 0.0
        out[metric] = {"n": n, "median_abs_err_pct": round(med, 1),
                       "worst_abs_err_pct": round(e[-1], 1) if n else 0.0}
    return out


def golden(f, lo, hi, iters):
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return (c, fc) if fc <= fd else (d, fd)


def fit(ev, spec, train, log):
    values = {}
    params = []
    for p in spec["parameters"]:
        rows_of_p = [s for s in train if any(s.startswith(pre) for pre in p["scenario_prefixes"])]
        if rows_of_p:
            params.append((p, rows_of_p))
            values[p["name"]] = p["initial"]
    for rnd in range(spec["rounds"]):
        for p, rows_of_p in params:
            def f(x, p=p, rows_of_p=rows_of_p):
                v = dict(values)
                v[p["name"]] = round(x, 3)
                return objective(ev.run(v, rows_of_p))
            x, fx = golden(f, p["lo"], p["hi"], spec["golden_iterations"])
            values[p["name"]] = round(x, 3)
            log(f"  round {rnd + 1}: {p['name']} = {values[p['name']]:.3f} "
                f"(capped mean |err| {fx:.2f} % on {len(rows_of_p)} scenarios)")
    return values


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=os.path.join(ROOT, "tools/calibrate/fit_spec.json"))
    ap.add_argument("--moesim", default=os.path.join(ROOT, "build/moesim"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tools/calibrate/fit_results.json"))
    ap.add_argument("--splits", default="all,half,gpu,stack")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="",
                    help="comma-separated split names to run (e.g. 'leave gpu mi300x out')")
    ap.add_argument("--apply", action="store_true", help="write the 'all' fit into the presets")
    ap.add_argument("--reuse", action="store_true",
                    help="with --apply: take the fit from --out instead of fitting again")
    args = ap.parse_args()
    if args.reuse:
        if not args.apply:
            sys.exit("--reuse only goes with --apply")
        apply_fit(load_json(args.spec), load_json(args.out))
        return
    spec = load_json(args.spec)
    ev = Evaluator(spec, args.moesim, args.jobs)
    sdir = os.path.join(ROOT, spec["scenarios"])
    # The fit is on the aggregated rows without speculative decoding: disaggregated scenarios
    # (deployment.pools) and MTP scenarios (a "speculative" section, whose acceptance is an
    # assumed curve, not a measurement of the row) are left out, so that the fitted values and
    # held-out errors the presets cite stay reproducible.
    def fitted(doc):
        return "pools" not in doc.get("deployment", {}) and "speculative" not in doc

    scenarios = sorted(f for f in os.listdir(sdir) if f.endswith(".json")
                       and fitted(load_json(os.path.join(sdir, f))))
    labels = {s: {"gpu": s.split("-")[0], "stack": s.split("-")[1]} for s in scenarios}

    def log(msg):
        print(msg, flush=True)

    splits = []
    chosen = args.splits.split(",")
    if "all" in chosen:
        splits.append(("all", scenarios, scenarios))
    if "half" in chosen:
        splits.append(("half", scenarios[0::2], scenarios[1::2]))
    for kind in ("gpu", "stack"):
        if kind not in chosen:
            continue
        for value in sorted({l[kind] for l in labels.values()}):
            held = [s for s in scenarios if labels[s][kind] == value]
            train = [s for s in scenarios if labels[s][kind] != value]
            splits.append((f"leave {kind} {value} out", train, held))

    if args.only:
        wanted = set(args.only.split(","))
        splits = [sp for sp in splits if sp[0] in wanted]
    results = {"spec": os.path.relpath(args.spec, ROOT), "splits": []}
    for name, train, held in splits:
        log(f"{name}: fit on {len(train)} scenarios, test on {len(held)}")
        values = fit(ev, spec, train, log)
        test_rows = ev.run(values, held)
        fit_rows = ev.run(values, train) if name != "all" else test_rows
        entry = {"split": name, "values": values,
                 "fit": summary(fit_rows), "held_out": summary(test_rows),
                 "train_scenarios": len(train), "held_out_scenarios": len(held)}
        results["splits"].append(entry)
        log(json.dumps({"split": name, "values": values, "held_out": entry["held_out"]}))
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
            f.write("\n")

    if args.apply:
        apply_fit(spec, results)


def apply_fit(spec, results):
    """Writes the 'all' split's values into the preset leaves the spec names."""
    allfit = next((s for s in results["splits"] if s["split"] == "all"), None)
    if allfit is None:
        sys.exit("--apply needs the 'all' split")
    for p in spec["parameters"]:
        if p["name"] not in allfit["values"]:
            continue
        for leaf in p["leaves"]:
            path = os.path.join(ROOT, "models/presets", leaf["file"])
            doc = load_json(path)
            set_leaf(doc, leaf["path"], allfit["values"][p["name"]])
            note_source(doc, leaf["path"],
                        f"{leaf['path'].split('.')[-1]} = {allfit['values'][p['name']]}: "
                        + p["source"])
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=2, ensure_ascii=False)
                f.write("\n")


if __name__ == "__main__":
    main()
