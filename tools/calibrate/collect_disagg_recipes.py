#!/usr/bin/env python3
"""Collects the per-worker server flags behind InferenceX's disaggregated DeepSeek-R1 rows.

The disaggregated rows (disagg = 1) of ../shared/reference/measurements/inferencex_dsr1_training.csv
ran Dynamo over SGLang or TensorRT-LLM workers. InferenceX does not start those servers itself:
its master config (.github/configs/nvidia-master.yaml) names, for each search-space entry, a
srt-slurm recipe (additional-settings "CONFIG_FILE=recipes/...yaml") whose prefill and decode
sections hold each worker's flags. This script follows that chain for every such row:

  1. the InferenceX commit on the first-parent history of main at the end of the row's date
     (a run from a PR branch may have used the PR's head; when the entry is not there yet, the
     next commits that change the master config, up to 21 days later, are tried);
  2. the master config's entry "dsr1-<precision>-<hardware>-<framework>[-mtp]" whose ISL/OSL,
     spec-decoding, concurrency list and prefill/decode worker counts, TP, EP and DP attention
     equal the row's, and its CONFIG_FILE;
  3. that recipe in NVIDIA/srt-slurm as it was at the end of the row's date (the last commit on
     any branch that changed the file before then; InferenceX cloned a fork's
     sa-submission-q1-2026 branch, which NVIDIA merged into its main on 2026-03-03);
  4. each side's flags, flattened to the names docs/research/inferencex_recipes.json uses
     (SGLang: the CLI flag with '_' for '-'; TensorRT-LLM: the LLM API key, nested configs
     flattened as listed in TRT_KEYS), plus spec_v2 (SGLANG_ENABLE_SPEC_V2 in the side's env).

Rows whose recipe cannot be found (MoRI-SGLang rows on MI355X use AMD's own scripts; recipes that
were later merged into multi-variant files) are listed under "unmatched" with the reason.

  python3 tools/calibrate/collect_disagg_recipes.py \
      --inferencex ../.mirror/SemiAnalysisAI+InferenceX/repo \
      --srt-slurm ../.mirror/NVIDIA+srt-slurm/repo \
      --csv ../shared/reference/measurements/inferencex_dsr1_training.csv \
      --out docs/research/inferencex_disagg_recipes.json
"""
import argparse
import csv
import datetime
import json
import subprocess
import sys

import yaml

MASTER = ".github/configs/nvidia-master.yaml"
SEARCH_DAYS = 21
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# SGLang flags that do not change performance (names, paths, ports, timeouts, modes).
SGLANG_ADMIN = {
    "served_model_name", "model_path", "skip_tokenizer_init", "trust_remote_code",
    "watchdog_timeout", "disaggregation_bootstrap_port", "disaggregation_mode",
    "disaggregation_transfer_backend", "disaggregation_ib_device", "host", "port",
    "log_level", "enable_metrics", "tokenizer_path", "decode_log_interval", "dist_init_addr",
    "nnodes", "node_rank", "api_key", "log_requests", "enable_cache_report",
    "load_balance_method",
}
# TensorRT-LLM keys: nested path -> flat name (the names inferencex_recipes.json uses).
TRT_KEYS = {
    ("tensor_parallel_size",): "tp_size",
    ("moe_expert_parallel_size",): "ep_size",
    ("pipeline_parallel_size",): "pp_size",
    ("enable_attention_dp",): "enable_attention_dp",
    ("max_batch_size",): "max_batch_size",
    ("max_num_tokens",): "max_num_tokens",
    ("max_seq_len",): "max_seq_len",
    ("kv_cache_config", "free_gpu_memory_fraction"): "free_gpu_memory_fraction",
    ("kv_cache_config", "dtype"): "kv_cache_dtype",
    ("kv_cache_config", "enable_block_reuse"): "enable_block_reuse",
    ("moe_config", "backend"): "moe_backend",
    ("moe_config", "use_low_precision_moe_combine"): "use_low_precision_moe_combine",
    ("speculative_config", "decoding_type"): "spec_algorithm",
    ("speculative_config", "num_nextn_predict_layers"): "mtp_nextn_layers",
    ("disable_overlap_scheduler",): "disable_overlap_scheduler",
    ("enable_chunked_prefill",): "enable_chunked_prefill",
    ("stream_interval",): "stream_interval",
    ("enable_lm_head_tp_in_adp",): "enable_lm_head_tp_in_adp",
    ("attention_dp_config", "enable_balance"): "attention_dp_balance",
    ("cache_transceiver_config", "backend"): "cache_transceiver_backend",
}


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True,
                          text=True).stdout


_MASTER_CACHE = {}


def master_doc(ix, commit):
    """The master config at `commit`, parsed once."""
    if commit not in _MASTER_CACHE:
        _MASTER_CACHE[commit] = yaml.load(show(ix, commit, MASTER) or "{}", Loader=LOADER)
    return _MASTER_CACHE[commit]


def show(repo, commit, path):
    try:
        return git(repo, "show", f"{commit}:{path}")
    except subprocess.CalledProcessError:
        return None


def end_of(date):
    return f"{date} 23:59:59 +0000"


def master_commits(ix, date):
    """The commit in force at the end of `date`, then later ones changing the master config."""
    first = git(ix, "rev-list", "-1", "--first-parent", f"--before={end_of(date)}", "HEAD").strip()
    later_end = (datetime.date.fromisoformat(date) + datetime.timedelta(days=SEARCH_DAYS))
    later = git(ix, "rev-list", "--first-parent", "--reverse", f"--after={end_of(date)}",
                f"--before={end_of(later_end.isoformat())}", "HEAD", "--", MASTER).split()
    return [first] + later


def config_file(settings):
    for s in settings or []:
        if isinstance(s, str) and s.startswith("CONFIG_FILE="):
            return s.split("=", 1)[1].strip()
    return None


def side_matches(side, workers, tp, ep, dpa):
    return (side.get("num-worker") == workers and side.get("tp") == tp and side.get("ep") == ep
            and bool(side.get("dp-attn", False)) == dpa)


def find_entries(doc, row):
    """(key, CONFIG_FILE) of every search-space entry that matches the row."""
    hits = []
    base = f"dsr1-{row['precision']}-{row['hardware']}-{row['framework']}"
    for key, entry in (doc or {}).items():
        if not isinstance(entry, dict) or key not in (base, base + "-mtp"):
            continue
        for slc in entry.get("seq-len-configs", []):
            if slc.get("isl") != int(row["isl"]) or slc.get("osl") != int(row["osl"]):
                continue
            for ss in slc.get("search-space", []):
                spec = ss.get("spec-decoding", "none") or "none"
                if spec != row["spec"] or int(row["conc"]) not in ss.get("conc-list", []):
                    continue
                p, d = ss.get("prefill", {}), ss.get("decode", {})
                if not side_matches(p, int(row["prefill_workers"]), int(row["prefill_tp"]),
                                    int(row["prefill_ep"]), row["prefill_dpattn"] == "1"):
                    continue
                if not side_matches(d, int(row["decode_workers"]), int(row["decode_tp"]),
                                    int(row["decode_ep"]), row["decode_dpattn"] == "1"):
                    continue
                path = (config_file(p.get("additional-settings"))
                        or config_file(d.get("additional-settings"))
                        or config_file(ss.get("additional-settings")))
                hits.append((key, path))
    return hits


def recipe_commit(srt, path, date):
    before = git(srt, "log", "--all", "-1", "--format=%H %cs", f"--before={end_of(date)}", "--",
                 path).split()
    if before:
        return before[0], before[1], False
    after = git(srt, "log", "--all", "--reverse", "--format=%H %cs", "--", path).split()
    if after:
        return after[0], after[1], True
    return None, None, None


def flatten_trt(cfg):
    out = {}
    for path, name in TRT_KEYS.items():
        node = cfg
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            out[name] = node
    graphs = cfg.get("cuda_graph_config", "absent")
    if graphs is None:
        out["cuda_graph"] = False
    elif isinstance(graphs, dict):
        sizes = graphs.get("batch_sizes") or []
        out["cuda_graph_max_bs"] = graphs.get("max_batch_size") or (max(sizes) if sizes else None)
    return out


# SGLang long flag names -> the short ones inferencex_recipes.json uses.
SGLANG_ALIASES = {
    "tensor_parallel_size": "tp_size", "data_parallel_size": "dp_size",
    "expert_parallel_size": "ep_size",
    "enable_flashinfer_allreduce_fusion": "allreduce_fusion",
}


def flatten_sglang(cfg):
    out = {}
    for key, value in cfg.items():
        name = key.replace("-", "_")
        name = SGLANG_ALIASES.get(name, name)
        if name in SGLANG_ADMIN:
            continue
        if name == "cuda_graph_bs":  # the captured sizes: the largest is the cap
            name, value = "cuda_graph_max_bs", max(value) if value else None
        if name == "chunked_prefill_size" and isinstance(value, int) and value <= 0:
            name, value = "chunked_prefill", False  # -1 turns chunking off
        if name == "disable_cuda_graph":
            name, value = "cuda_graph", not value
        out[name] = value
    return out


def backend_kind(backend):
    """srt-slurm's backend type; older SGLang recipes leave it out and give sglang_config."""
    if backend.get("type"):
        return backend["type"]
    if backend.get("sglang_config"):
        return "sglang"
    return "trtllm" if backend.get("trtllm_config") else None


def side_flags(backend, side):
    kind = backend_kind(backend)
    if kind == "sglang":
        flags = flatten_sglang((backend.get("sglang_config") or {}).get(side) or {})
    elif kind == "trtllm":
        flags = flatten_trt((backend.get("trtllm_config") or {}).get(side) or {})
    else:
        raise ValueError(f"backend type {kind!r}")
    env = backend.get(f"{side}_environment") or {}
    if str(env.get("SGLANG_ENABLE_SPEC_V2", "")) in ("1", "true", "True"):
        flags["spec_v2"] = True
    return flags, {k: str(v) for k, v in sorted(env.items())}


def collect(args):
    matched, unmatched = [], []
    for line, row in ((i, r) for i, r in enumerate(csv.DictReader(open(args.csv)), start=2)
                      if r["disagg"] == "1"):
        ident = {k: row[k] for k in ("hardware", "framework", "precision", "spec", "isl", "osl",
                                     "conc", "date")}
        ident["csv_line"] = line
        if not row["framework"].startswith("dynamo-"):
            unmatched.append({**ident, "reason": f"{row['framework']} rows are launched by AMD's "
                              "scripts, not srt-slurm recipes (not collected)"})
            continue
        found = None
        for commit in master_commits(args.inferencex, row["date"]):
            doc = master_doc(args.inferencex, commit)
            hits = find_entries(doc, row)
            paths = sorted({h[1] for h in hits if h[1]})
            if len(paths) > 1:
                raise SystemExit(f"CSV line {line}: ambiguous recipes {paths} at {commit}")
            if paths:
                found = (commit, hits[0][0], paths[0])
                break
        if not found:
            unmatched.append({**ident, "reason": "no matching master-config entry with a "
                              f"CONFIG_FILE within {SEARCH_DAYS} days of the row's date"})
            continue
        ix_commit, key, path = found
        srt_commit, srt_date, after = recipe_commit(args.srt_slurm, path, row["date"])
        text = show(args.srt_slurm, srt_commit, path) if srt_commit else None
        recipe = yaml.safe_load(text) if text else None
        backend = (recipe or {}).get("backend") or {}
        if not recipe or backend_kind(backend) not in ("sglang", "trtllm") or not (
                backend.get("sglang_config") or backend.get("trtllm_config")):
            unmatched.append({**ident, "config_file": path, "reason": "recipe not found in "
                              "NVIDIA/srt-slurm, or not a plain prefill/decode recipe"})
            continue
        prefill, prefill_env = side_flags(backend, "prefill")
        decode, decode_env = side_flags(backend, "decode")
        matched.append({
            **ident,
            "prefill_workers": int(row["prefill_workers"]), "decode_workers": int(row["decode_workers"]),
            "recipe_id": recipe.get("name", path),
            "config_file": path,
            "master_config": f"SemiAnalysisAI/InferenceX {MASTER}@{ix_commit[:10]} ({key})",
            "source": f"NVIDIA/srt-slurm {path}@{srt_commit[:10]} ({srt_date})"
                      + (" (first version, after the row's date)" if after else ""),
            "prefill": prefill, "decode": decode,
            "prefill_env": prefill_env, "decode_env": decode_env,
        })
    return {"description": __doc__.strip().splitlines()[0],
            "generated_by": "tools/calibrate/collect_disagg_recipes.py",
            "rows": matched, "unmatched": unmatched}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--inferencex", required=True)
    p.add_argument("--srt-slurm", required=True)
    p.add_argument("--csv", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    out = collect(args)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"{len(out['rows'])} rows with a recipe, {len(out['unmatched'])} without",
          file=sys.stderr)


if __name__ == "__main__":
    main()
