#include "tools/calibrate/reference_set.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "models/status_macros.h"

namespace moesim::calibrate {
namespace {

struct Generated {
  InferencexRow row;
  ReferenceScenario scenario;
  std::string recipe_id;
};

// The README's MTP column: k, or "-" without speculative decoding.
std::string MtpK(const ReferenceScenario& s) {
  return s.draft_tokens > 0 ? absl::StrCat(s.draft_tokens) : "-";
}

std::string Readme(const std::vector<Generated>& set, const ReferenceSet& summary,
                   const InputLabels& labels) {
  std::string out = absl::StrCat(
      "# InferenceX DeepSeek-R1 reference set (generated: do not edit)\n\n",
      "One scenario per usable row of `", labels.csv, "` (InferenceX DeepSeek-R1-0528 sweeps), ",
      "aggregated rows with the server recipe of that row from `", labels.recipes,
      "` (how the recipes were ",
      "collected: `docs/research/inferencex_recipes.md`), disaggregated rows with their ",
      "per-worker recipes from `", labels.disagg_recipes,
      "` (`docs/research/inferencex_disagg_recipes.md`). Regenerate after any of these files ",
      "changes:\n\n", "```sh\n", "build/make_reference_set ", labels.csv, " ", labels.recipes,
      " --disagg-recipes ", labels.disagg_recipes, " --out scenarios/reference/inferencex\n",
      "```\n\n",
      "`tests/calibrate/make_reference_set_test.cc` regenerates the set and checks these files ",
      "are byte-identical. Compare with the simulator: ",
      "`build/moesim validate scenarios/reference/inferencex --summary-only`.\n\n",
      "## How a row becomes a scenario\n\n",
      "- hardware: the row's GPU preset, 8 GPUs per server; model `DeepSeek-R1` with fp8 weights, ",
      "fp4 MoE experts for precision fp4, an fp8 KV cache when the recipe sets one (else bf16).\n",
      "- runtime: the stack preset (`sglang`, `trtllm` for trt, `atom`) with an override only ",
      "where the recipe passes the flag: `memory_fraction` (SGLang mem_fraction_static, TRT ",
      "free_gpu_memory_fraction, ATOM gpu_memory_utilization), `cuda_graph_max_batch`, ",
      "`max_num_seqs` (max_running_requests / max_batch_size / max_num_seqs), ",
      "`max_num_batched_tokens` (chunked_prefill_size / max_num_tokens), `kv_block_tokens` ",
      "(SGLang's trtllm_mla attention backend forces 64; ATOM block_size), ",
      "`attention_dp_balance` (TensorRT-LLM attention_dp_config.enable_balance with its ",
      "timeout_iters and batching_wait_iters). Values that depend on ",
      "the row (conc, ISL) are the row's.\n",
      "- deployment: TP and the EP that ran (the recipe's ep_size; some 2025 rows say ep=1 but "
      "ran ",
      "EP=TP); with DP attention, `attention: data_parallel`, TP 1, EP = the row's TP.\n",
      "- workload: closed loop of `conc` clients; input and output lengths uniform in ",
      "[floor(0.8 x), x] (`--random-range-ratio 0.8`, `--ignore-eos`).\n",
      "- simulation: step fidelity, seed 1. With L = TTFT + OSL x TPOT (the row's medians): ",
      "warmup 1.5 L; window at least 2 L and ceil(30 / conc) L (30 finished requests) unless ",
      "that exceeds 40,000 decode steps; both rounded up to whole seconds.\n",
      "- reference (tolerance 30 %): `latency_s.tpot.p50`, ",
      "`throughput.output_tok_per_s_per_gpu` (when the row's value is > 0), ",
      "`throughput.total_tok_per_s_per_gpu`; neither throughput when the row's output ",
      "tok/s per GPU is outside [1/2, 2] x what Little's law gives for its own latencies ",
      "(conc x mean OSL / (TTFT + mean OSL x TPOT) / TP): a run with failed or unfinished ",
      "requests, which the scenario's description names.\n\n",
      "Disaggregated rows (`disagg` 1: Dynamo + SGLang / TensorRT-LLM, MoRI + SGLang):\n\n",
      "- runtime: the workers' stack preset (`sglang` for dynamo-sglang and mori-sglang, ",
      "`trtllm` for dynamo-trt). With the row's srt-slurm recipe (`", labels.disagg_recipes,
      "`), each pool's `runtime` takes the overrides its side passes, as above, plus ",
      "`host_overlap: false` for TensorRT-LLM's disable_overlap_scheduler and `execution_mode: ",
      "eager` without CUDA graphs; the KV cache is the decode side's kv dtype. Without one ",
      "(MoRI-SGLang rows, recipes not found): the preset's defaults and a bf16 KV cache.\n",
      "- deployment: `pools` = a `prefill` pool of `prefill_workers` instances, then a `decode` ",
      "pool of `decode_workers` instances, each side's TP / EP / DP attention mapped as above ",
      "(the CSV's; where a recipe disagrees, the description says so). A side moesim cannot "
      "express (EP neither 1 nor TP, EP not dividing the 256 routed experts) or ",
      "whose GPUs are not workers x TP is skipped. An SGLang side with DP attention whose ",
      "recipe sets no `moe_a2a_backend` runs without DeepEP: `moe_dispatch: gather` (SGLang's ",
      "dp_attention.py gather and scatter around each MoE layer). A side with DP attention and ",
      "EP 1 gathers its tokens for experts tensor-sharded over the worker's GPUs ",
      "(`moe_dispatch: gather`, `moe_sharding: tensor`), in the stack's form (TensorRT-LLM's ",
      "allgather / reducescatter of each rank's own tokens, `dp_gather` in the runtime ",
      "presets).\n",
      "- hardware: pools take whole servers (prefill first): servers of 8 GPUs, GB300 NVL72 ",
      "compute trays of 4 in one rack; `servers_per_rack` holds both pools.\n",
      "- reference: as above, throughput per GPU over all GPUs of both pools (`total_gpus`); the ",
      "CSV's output tok/s per decode GPU is multiplied by decode_gpus / total_gpus.\n\n",
      "MTP rows (`spec` mtp, aggregated or disaggregated; `-mtp` after the precision in the file ",
      "name):\n\n",
      "- speculative: `{\"method\": \"mtp\", \"draft_tokens\": k, \"acceptance\": {\"curve\": ",
      "\"deepseek-r1-inferencex-random-chat\"}}`. k is the recipe's: SGLang "
      "`speculative_num_steps` ",
      "(topk 1: num_draft_tokens = num_steps + 1 counts the verified root), TensorRT-LLM ",
      "`num_nextn_predict_layers`, ATOM `num_speculative_tokens` (default 1 when not passed). ",
      "A disaggregated row's k is its decode side's. Without a recipe k = 3, an assumption: "
      "SGLang's DeepSeek MTP example ",
      "(`--speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4`). ",
      "k above 5 would be clamped to 5, the curve's last point.\n",
      "- acceptance: fitted, not measured on any row: the DeepSeek-R1 MTP acceptance lengths ",
      "TensorRT-LLM measured on B200 for k = 1..5 (1.92, 2.58, 2.82, 2.99, 3.01; tech blog 1 via ",
      "`../shared/reference/measurements/README.md` §2 P5) with every per-position acceptance ",
      "probability scaled by one factor, fitted by `tools/calibrate/fit_mtp_acceptance.py` to ",
      "InferenceX's chat-templated random-token prompts on half the training set's MTP rows ",
      "(H100 and MI325X left out: their non-MTP rows have step-time errors of their own); the ",
      "factor, the lengths and the train and held-out errors are in ",
      "`tools/calibrate/mtp_acceptance_fit.json`, the curve in ",
      "`models/presets/acceptance_curves.json`.\n\n");
  absl::StrAppend(&out, "## Counts\n\n", summary.scenarios, " scenarios (",
                  summary.scenarios - summary.disaggregated, " aggregated, ", summary.disaggregated,
                  " disaggregated), ", summary.mtp, " of them MTP (",
                  summary.mtp - summary.mtp_disaggregated, " aggregated, ",
                  summary.mtp_disaggregated, " disaggregated).\n\n",
                  "| GPU | stack | aggregated | disaggregated |\n|---|---|---:|---:|\n");
  std::map<std::pair<std::string, std::string>, std::pair<int, int>> counts;
  for (const auto& [key, n] : summary.per_gpu_stack) counts[key].first = n;
  for (const auto& [key, n] : summary.per_gpu_stack_disaggregated) counts[key].second = n;
  for (const auto& [key, n] : counts) {
    absl::StrAppend(&out, "| ", key.first, " | ", key.second, " | ", n.first, " | ", n.second,
                    " |\n");
  }
  absl::StrAppend(&out, "\nCSV rows skipped:\n\n| reason | rows |\n|---|---:|\n");
  for (const auto& [reason, n] : summary.skipped) {
    absl::StrAppend(&out, "| ", reason, " | ", n, " |\n");
  }
  absl::StrAppend(&out,
                  "\n## Aggregated scenarios\n\n| file | GPU | stack | prec | MTP k | plan | ISL / "
                  "OSL | conc | date | recipe | TPOT ms | out tok/s/GPU | total tok/s/GPU | "
                  "warmup / duration s |\n"
                  "|---|---|---|---|---:|---|---|---:|---|---|---:|---:|---:|---:|\n");
  for (const Generated& g : set) {
    if (g.scenario.disaggregated) continue;
    const InferencexRow& r = g.row;
    const ReferenceScenario& s = g.scenario;
    absl::StrAppend(&out, "| `", s.stem, ".json` | ", s.gpu, " | ", s.stack, " | ", r.precision,
                    " | ", MtpK(s), " | ", s.plan, " | ", r.isl, " / ", r.osl, " | ", r.conc, " | ",
                    r.date, " | ", g.recipe_id, " | ", r.median_tpot_ms_text, " | ",
                    r.output_tput_per_gpu_text, " | ", r.tput_per_gpu_total_text, " | ",
                    s.window.warmup_s, " / ", s.window.duration_s, " |\n");
  }
  absl::StrAppend(&out,
                  "\n## Disaggregated scenarios\n\n| file | GPU | stack | prec | MTP k | prefill | "
                  "decode | GPUs | ISL / OSL | conc | date | TPOT ms | out tok/s/GPU (all GPUs) | "
                  "total tok/s/GPU | warmup / duration s |\n"
                  "|---|---|---|---|---:|---|---|---:|---|---:|---|---:|---:|---:|---:|\n");
  for (const Generated& g : set) {
    if (!g.scenario.disaggregated) continue;
    const InferencexRow& r = g.row;
    const ReferenceScenario& s = g.scenario;
    absl::StrAppend(
        &out, "| `", s.stem, ".json` | ", s.gpu, " | ", s.stack, " | ", r.precision, " | ", MtpK(s),
        " | ", s.prefill_instances, " x ", s.prefill_plan, " | ", s.decode_instances, " x ", s.plan,
        " | ", r.prefill_gpus, " + ", r.decode_gpus, " | ", r.isl, " / ", r.osl, " | ", r.conc,
        " | ", r.date, " | ", r.median_tpot_ms_text, " | ",
        absl::StrFormat("%g", s.output_tok_per_s_per_gpu_all), " | ", r.tput_per_gpu_total_text,
        " | ", s.window.warmup_s, " / ", s.window.duration_s, " |\n");
  }
  return out;
}

}  // namespace

absl::StatusOr<ReferenceSet> GenerateReferenceSet(const CsvTable& table, const RecipeBook& book,
                                                  const InputLabels& labels,
                                                  const ScenarioCheck& refuses,
                                                  const DisaggRecipeBook* disagg_book) {
  ReferenceSet result;
  std::vector<Generated> set;
  for (size_t i = 0; i < table.size(); ++i) {
    MOESIM_ASSIGN_OR_RETURN(InferencexRow row, ParseInferencexRow(table, i));
    std::optional<DisaggRecipeMatch> disagg_recipe;
    if (row.disagg && disagg_book != nullptr) {
      MOESIM_ASSIGN_OR_RETURN(disagg_recipe, disagg_book->Find(row));
    }
    const std::string reason = SkipReason(row, disagg_recipe ? &*disagg_recipe : nullptr);
    if (!reason.empty()) {
      ++result.skipped[reason];
      continue;
    }
    if (row.disagg) {
      MOESIM_ASSIGN_OR_RETURN(
          ReferenceScenario scenario,
          BuildDisaggregatedScenario(row, labels, disagg_recipe ? &*disagg_recipe : nullptr));
      if (const std::string why = refuses ? refuses(scenario.doc) : ""; !why.empty()) {
        ++result.skipped[why];
        continue;
      }
      set.push_back({row, std::move(scenario), ""});
      continue;
    }
    MOESIM_ASSIGN_OR_RETURN(std::optional<RecipeMatch> recipe, book.Find(row));
    if (!recipe) {
      ++result.skipped[absl::StrCat("no recipe in ", labels.recipes)];
      continue;
    }
    MOESIM_ASSIGN_OR_RETURN(ReferenceScenario scenario,
                            BuildReferenceScenario(row, *recipe, labels));
    if (const std::string why = refuses ? refuses(scenario.doc) : ""; !why.empty()) {
      ++result.skipped[why];
      continue;
    }
    set.push_back({row, std::move(scenario), recipe->recipe_id()});
  }

  // Rows that would share a file name get their dates appended.
  std::map<std::string, int> uses;
  for (const Generated& g : set) ++uses[g.scenario.stem];
  for (Generated& g : set) {
    if (uses[g.scenario.stem] < 2) continue;
    g.scenario.stem += "-d" + absl::StrReplaceAll(g.row.date, {{"-", ""}});
    g.scenario.doc["name"] = "inferencex-dsr1-" + g.scenario.stem;
  }
  std::sort(set.begin(), set.end(), [](const Generated& a, const Generated& b) {
    return a.scenario.stem < b.scenario.stem;
  });
  for (size_t i = 1; i < set.size(); ++i) {
    if (set[i].scenario.stem == set[i - 1].scenario.stem) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CSV lines ", set[i - 1].row.line, " and ", set[i].row.line,
          " describe the same configuration on the same date (", set[i].scenario.stem, ")"));
    }
  }

  for (const Generated& g : set) {
    result.files.push_back({g.scenario.stem + ".json", g.scenario.doc.dump(2) + "\n"});
    if (g.scenario.draft_tokens > 0) {
      ++result.mtp;
      if (g.scenario.disaggregated) ++result.mtp_disaggregated;
    }
    if (g.scenario.disaggregated) {
      ++result.disaggregated;
      ++result.per_gpu_stack_disaggregated[{g.scenario.gpu, g.scenario.stack}];
    } else {
      ++result.per_gpu_stack[{g.scenario.gpu, g.scenario.stack}];
    }
  }
  result.scenarios = static_cast<int>(set.size());
  result.files.push_back({"README.md", Readme(set, result, labels)});
  return result;
}

}  // namespace moesim::calibrate
