// One InferenceX CSV row and its server recipe, as a moesim reference scenario
// (scenarios/reference/inferencex/*.json).
//
// What an aggregated row (disagg 0) becomes:
//   hardware   the row's GPU preset (b200 -> "B200", mi355x -> "MI355X", ...), 8 GPUs per server
//   model      "DeepSeek-R1", fp8 weights; MoE experts fp4 for precision fp4; KV fp8 when the
//              recipe's kv cache dtype is fp8 (fp8_e4m3 / fp8), else bf16
//   runtime    the stack preset (sglang -> "sglang", trt -> "trtllm", atom -> "atom") and an
//              override only for each flag the recipe passes: memory_fraction,
//              cuda_graph_max_batch, max_num_seqs, max_num_batched_tokens, kv_block_tokens
//              (SGLang's trtllm_mla attention backend forces 64-token pages),
//              attention_dp_balance (TensorRT-LLM attention_dp_config.enable_balance)
//   deployment TP and the EP that ran (the recipe's ep_size, which corrects CSV rows that say
//              ep=1); with DP attention: attention data_parallel, TP 1, EP = the row's TP
//   workload   closed loop of `conc` clients, lengths uniform in [floor(0.8 x), x] for ISL / OSL
//   simulation step fidelity, seed 1, warmup and duration from simulation_window.h
//   reference  median TPOT (s), output and total tok/s per GPU (each only when > 0), 30 %
//
// What a disaggregated row (disagg 1, Dynamo + SGLang / TensorRT-LLM, MoRI + SGLang) becomes:
//   the same model, workload, simulation and TPOT reference; deployment.pools = a "prefill"
//   pool (prefill_workers instances) then a "decode" pool (decode_workers instances), each
//   side's tp / ep / dpattn mapped as an aggregated row's (the CSV's, which the description
//   compares with the recipe's); the cluster holds both pools (whole servers each: 8 GPUs, or a
//   GB300 NVL72 compute tray of 4); throughput references per GPU over all GPUs of both pools
//   (the CSV's output tok/s per decode GPU is rescaled). With the row's per-worker recipe
//   (disagg_recipe_book.h: the srt-slurm YAML InferenceX's master config names), each pool's
//   runtime gets the overrides its side passes (as an aggregated row's, plus TensorRT-LLM's
//   disable_overlap_scheduler -> host_overlap false and no CUDA graphs -> execution_mode eager)
//   and the model the decode side's KV dtype; without one (MoRI rows, recipes not found), both
//   pools run the stack preset of the workers (dynamo-sglang and mori-sglang -> "sglang",
//   dynamo-trt -> "trtllm") with its defaults and the KV cache bf16.
//
// An MTP row (spec mtp) is one of the above plus a top-level "speculative" section: method
// "mtp", draft_tokens k and the acceptance curve "deepseek-r1-inferencex-random-chat" (the
// DeepSeek-R1 MTP acceptance lengths TensorRT-LLM measured on B200 for k = 1..5, each per-position
// probability scaled by one factor fitted to InferenceX's prompts on half the training set's MTP
// rows: tools/calibrate/fit_mtp_acceptance.py; no row measures its own). k is the recipe's (SGLang
// speculative_num_steps with topk 1, TensorRT-LLM num_nextn_predict_layers, ATOM
// num_speculative_tokens or its default; a disaggregated row's decode side), else 3 (SGLang's
// DeepSeek MTP example), clamped to 5. The file name's precision part reads "fp4-mtp".
//
//   if (SkipReason(row).empty()) {
//     MOESIM_ASSIGN_OR_RETURN(ReferenceScenario s, BuildReferenceScenario(row, match, labels));
//     WriteFile(dir + "/" + s.stem + ".json", s.doc.dump(2) + "\n");
//   }
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "tools/calibrate/disagg_recipe_book.h"
#include "tools/calibrate/inferencex_row.h"
#include "tools/calibrate/recipe_book.h"
#include "tools/calibrate/simulation_window.h"

namespace moesim::calibrate {

// How the generated files name their inputs (fixed, so that the output does not depend on the
// paths the generator was given).
struct InputLabels {
  std::string csv = "../shared/reference/measurements/inferencex_dsr1_training.csv";
  std::string recipes = "docs/research/inferencex_recipes.json";
  std::string disagg_recipes = "docs/research/inferencex_disagg_recipes.json";
};

// Why a CSV row cannot become a scenario yet (a spec other than none / mtp, a
// disaggregated pool moesim cannot express, ...), or "" when it can. An aggregated row
// that passes may still lack a recipe. A disaggregated row's `recipe` (nullptr: none) may add
// redundant expert slots that let an EP degree divide the expert slots (EP48 with 256 + 32).
std::string SkipReason(const InferencexRow& row, const DisaggRecipeMatch* recipe = nullptr);

struct ReferenceScenario {
  std::string stem;  // file name without ".json": b200-sglang-fp8-tp8-ep1-isl1024-osl1024-c64
  nlohmann::ordered_json doc;  // keys in the order of scenarios/reference/seed000_*.json
  // For the set's README.
  std::string gpu;       // GPU preset
  std::string stack;     // runtime preset
  std::string plan;      // "TP8", "TP8 EP8", "DP-attention EP8" (disaggregated: the decode pool's)
  int ep_ran = 1;        // expert parallelism that ran (recipe ep_size; disaggregated: decode's)
  int draft_tokens = 0;  // MTP draft tokens per step (0: no speculative decoding)
  SimulationWindow window;
  // Disaggregated rows only.
  bool disaggregated = false;
  std::string prefill_plan;  // "DP-attention EP4", ...
  int prefill_instances = 0;
  int decode_instances = 0;
  int servers = 0;                          // servers of the cluster (both pools)
  double output_tok_per_s_per_gpu_all = 0;  // the reference: output tok/s over all GPUs
};

// The scenario of `row` (which SkipReason accepts) under `recipe`. Errors: a recipe flag of the
// wrong type or inconsistent with the row (tp_size, DP attention, an ep_size that is neither 1
// nor TP; for MTP an SGLang topk other than 1 or num_draft_tokens other than num_steps + 1).
absl::StatusOr<ReferenceScenario> BuildReferenceScenario(const InferencexRow& row,
                                                         const RecipeMatch& recipe,
                                                         const InputLabels& labels = {});

// The scenario of a disaggregated `row` (which SkipReason accepts), under its per-worker
// `recipe` when there is one (nullptr: both pools on the stack preset's defaults, bf16 KV, MTP
// k = 3). Errors: a precision other than fp8 / fp4; a recipe flag of the wrong type, or prefill
// and decode sides with different KV dtypes.
absl::StatusOr<ReferenceScenario> BuildDisaggregatedScenario(
    const InferencexRow& row, const InputLabels& labels = {},
    const DisaggRecipeMatch* recipe = nullptr);

}  // namespace moesim::calibrate
