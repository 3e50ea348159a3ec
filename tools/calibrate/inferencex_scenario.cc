#include "tools/calibrate/inferencex_scenario.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "models/status_macros.h"

namespace moesim::calibrate {
namespace {

using ojson = nlohmann::ordered_json;

constexpr int kGpusPerServer = 8;
// A GB300 NVL72 rack: 18 compute trays of 4 GPUs in one NVLink domain.
constexpr int kGb300GpusPerTray = 4;
constexpr int kGb300TraysPerRack = 18;
constexpr int kTolerancePct = 30;
// Little's law bound of an aggregated row's throughput: a closed loop of `conc` clients at steady
// state delivers conc x mean OSL / (TTFT + mean OSL x TPOT) output tokens per second. The CSV's
// medians stand in for the means, which moves the figure by tens of percent, not by a factor of
// two; a measured output throughput outside [1/2, 2] x that figure contradicts the row's own
// latencies (a run with failed or unfinished requests), so its throughput is not a reference.
constexpr double kLittleLawFactor = 2.0;
// DeepSeek-R1's routed experts (n_routed_experts): moesim spreads them evenly over an EP group.
constexpr int kRoutedExperts = 256;
// MTP rows: the acceptance curve every one of them runs with
// (models/presets/acceptance_curves.json: InferenceX's chat-templated random-token prompts, the
// TensorRT-LLM B200 DeepSeek-R1 curve with each per-position acceptance scaled by one factor fitted
// on half the training set's MTP rows by tools/calibrate/fit_mtp_acceptance.py), the largest k it
// covers, and the draft tokens where no recipe gives them (SGLang's DeepSeek MTP example:
// --speculative-num-steps 3
// --speculative-eagle-topk 1 --speculative-num-draft-tokens 4).
constexpr char kAcceptanceCurve[] = "deepseek-r1-inferencex-random-chat";
constexpr int kCurveMaxDraftTokens = 5;
constexpr int kDefaultDraftTokens = 3;

const std::map<std::string, std::string>& GpuPresets() {
  static const std::map<std::string, std::string> m = {
      {"b200", "B200"},     {"b300", "B300"},     {"gb300", "GB300"},  {"h100", "H100"},
      {"mi300x", "MI300X"}, {"mi325x", "MI325X"}, {"mi355x", "MI355X"}};
  return m;
}

// Which recipe flag carries each runtime override, per stack (empty: the stack has no such
// flag in the recipes).
struct StackFlags {
  std::string preset;
  std::string memory_fraction;
  std::string cuda_graph_max_batch;
  std::string max_num_seqs;
  std::string max_num_batched_tokens;
  std::string kv_block_tokens;
};

// Disaggregated frameworks run their workers on one of these stacks: Dynamo (NVIDIA's
// prefill/decode orchestrator) over SGLang or TensorRT-LLM, MoRI (AMD's KV-transfer and
// all-to-all library) under SGLang.
const std::map<std::string, StackFlags>& Stacks() {
  static const std::map<std::string, StackFlags> m = [] {
    const StackFlags sglang = {"sglang",
                               "mem_fraction_static",
                               "cuda_graph_max_bs",
                               "max_running_requests",
                               "chunked_prefill_size",
                               "page_size"};
    const StackFlags trt = {"trtllm",         "free_gpu_memory_fraction", "cuda_graph_max_bs",
                            "max_batch_size", "max_num_tokens",           ""};
    const StackFlags atom = {"atom",         "gpu_memory_utilization", "cudagraph_capture_sizes",
                             "max_num_seqs", "max_num_batched_tokens", "block_size"};
    return std::map<std::string, StackFlags>{{"sglang", sglang},  {"trt", trt},
                                             {"atom", atom},      {"dynamo-sglang", sglang},
                                             {"dynamo-trt", trt}, {"mori-sglang", sglang}};
  }();
  return m;
}

// Flags the scenario's hardware, model or deployment sections consume (beyond the runtime's).
const std::set<std::string>& PlanFlags() {
  static const std::set<std::string> s = {
      "tp_size", "ep_size",        "enable_dp_attention",     "enable_attention_dp",
      "dp_size", "kv_cache_dtype", "ep_num_redundant_experts"};
  return s;
}

// Recipe flags the speculative section consumes (spec_v2: SGLANG_ENABLE_SPEC_V2 seen by the
// server, SGLang's overlapped draft path, a runtime override).
const std::set<std::string>& SpeculativeFlags() {
  static const std::set<std::string> s = {"spec_algorithm",
                                          "speculative_num_steps",
                                          "speculative_num_draft_tokens",
                                          "speculative_eagle_topk",
                                          "mtp_nextn_layers",
                                          "num_speculative_tokens",
                                          "spec_v2"};
  return s;
}

absl::Status BadFlag(const RecipeMatch& recipe, const std::string& key, const nlohmann::json& v,
                     const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat("recipe ", recipe.recipe_id(), ": flag \"", key,
                                                 "\": got ", v.dump(), ", expected ", expected));
}

absl::StatusOr<std::optional<int64_t>> PositiveIntFlag(const RecipeMatch& recipe,
                                                       const std::string& key) {
  if (key.empty()) return std::optional<int64_t>();
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json v, recipe.Flag(key));
  if (v.is_null()) return std::optional<int64_t>();
  if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
    return BadFlag(recipe, key, v, "a positive integer or null");
  }
  return std::optional<int64_t>(v.get<int64_t>());
}

absl::StatusOr<std::optional<int64_t>> NonNegativeIntFlag(const RecipeMatch& recipe,
                                                          const std::string& key) {
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json v, recipe.Flag(key));
  if (v.is_null()) return std::optional<int64_t>();
  if (!v.is_number_integer() || v.get<int64_t>() < 0) {
    return BadFlag(recipe, key, v, "a non-negative integer or null");
  }
  return std::optional<int64_t>(v.get<int64_t>());
}

absl::StatusOr<std::optional<double>> FractionFlag(const RecipeMatch& recipe,
                                                   const std::string& key) {
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json v, recipe.Flag(key));
  if (v.is_null()) return std::optional<double>();
  if (!v.is_number() || v.get<double>() <= 0 || v.get<double>() > 1) {
    return BadFlag(recipe, key, v, "a fraction in (0, 1] or null");
  }
  return std::optional<double>(v.get<double>());
}

// The largest captured batch: an integer, or (ATOM's cudagraph_capture_sizes) a list of them.
absl::StatusOr<std::optional<int64_t>> GraphBatchFlag(const RecipeMatch& recipe,
                                                      const std::string& key) {
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json v, recipe.Flag(key));
  if (!v.is_array()) return PositiveIntFlag(recipe, key);
  int64_t largest = 0;
  for (const nlohmann::json& x : v) {
    if (!x.is_number_integer() || x.get<int64_t>() <= 0) {
      return BadFlag(recipe, key, v, "a list of positive integers");
    }
    largest = std::max(largest, x.get<int64_t>());
  }
  if (largest == 0) return BadFlag(recipe, key, v, "a non-empty list");
  return std::optional<int64_t>(largest);
}

// A flag value as the description prints it: strings bare, everything else as JSON.
std::string FlagText(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// A measured value divided by `divisor`, rounded to 12 significant digits so that 5.87 / 1000
// prints as 0.00587 rather than 0.005870000000000001.
double Scaled(double value, double divisor) {
  return std::strtod(absl::StrFormat("%.12g", value / divisor).c_str(), nullptr);
}

ojson Lengths(int nominal) {
  // --random-range-ratio 0.8: uniform in [int(0.8 x), x]; integer arithmetic gives the floor.
  return ojson{{"kind", "uniform"},
               {"min_tokens", static_cast<int64_t>(nominal) * 4 / 5},
               {"max_tokens", nominal}};
}

ojson Reference(const std::string& metric, double value, const std::string& unit,
                const std::string& source) {
  return ojson{{"metric", metric},
               {"value", value},
               {"unit", unit},
               {"source", source},
               {"tolerance_pct", kTolerancePct}};
}

// The plans moesim has for one worker of TP GPUs: the MoE is tensor-parallel (EP 1) or
// expert-parallel over all TP GPUs (EP = TP); with DP attention the worker is a group of TP
// single-GPU attention ranks whose MoE layers all-to-all (EP = TP) or gather their tokens for
// experts tensor-sharded over the group (EP 1: TensorRT-LLM's allgather / reducescatter,
// SGLang's gather).
bool EpFits(int tp, int ep, bool dp_attention) {
  return dp_attention ? (ep == tp || ep == 1) : (ep == 1 || ep == tp);
}

// One worker's plan (EpFits holds) as deployment keys, the README's label and the file name's
// part.
struct WorkerPlan {
  ojson deployment;
  std::string label;  // "TP8", "TP8 EP8", "DP-attention EP8"
  std::string stem;   // "tp8-ep1", "tp8-ep8", "dpa-ep8"
};

WorkerPlan PlanOf(int tp, int ep, bool dp_attention) {
  WorkerPlan p;
  if (dp_attention && ep == 1) {
    p.deployment = {{"attention", "data_parallel"},
                    {"tensor_parallel", 1},
                    {"expert_parallel", tp},
                    {"moe_dispatch", "gather"},
                    {"moe_sharding", "tensor"}};
    p.label = absl::StrCat("DP-attention MoE-TP", tp);
    p.stem = absl::StrCat("dpa", tp, "-ep1");
  } else if (dp_attention) {
    p.deployment = {
        {"attention", "data_parallel"}, {"tensor_parallel", 1}, {"expert_parallel", ep}};
    p.label = absl::StrCat("DP-attention EP", ep);
    p.stem = absl::StrCat("dpa-ep", ep);
  } else {
    p.deployment = {{"tensor_parallel", tp}, {"expert_parallel", ep}};
    p.label = ep > 1 ? absl::StrCat("TP", tp, " EP", ep) : absl::StrCat("TP", tp);
    p.stem = absl::StrCat("tp", tp, "-ep", ep);
  }
  return p;
}

// Why one side of a disaggregated row has no moesim pool, or "".
std::string PoolProblem(const std::string& side, int tp, int ep, bool dp_attention, int workers,
                        int gpus, int redundant_slots) {
  if (workers < 1 || tp < 1 || ep < 1) {
    return absl::StrCat(side, ": workers, TP and EP must be at least 1");
  }
  if (!EpFits(tp, ep, dp_attention) || (dp_attention && tp < 2)) {
    return absl::StrCat(side,
                        ": TP / EP / DP attention have no moesim plan (expected EP 1 or EP = "
                        "TP; with DP attention TP >= 2)");
  }
  if ((kRoutedExperts + redundant_slots) % ep != 0) {
    return absl::StrCat(side,
                        ": EP does not divide DeepSeek-R1's 256 routed experts (the run's "
                        "redundant experts are neither in the row nor in a recipe)");
  }
  if (gpus != workers * tp) {
    return absl::StrCat(side, ": GPUs are not workers x TP (inconsistent CSV columns)");
  }
  return "";
}

int GpusPerServer(const std::string& hardware) {
  return hardware == "gb300" ? kGb300GpusPerTray : kGpusPerServer;
}

int ServersFor(int gpus, int gpus_per_server) {
  return (gpus + gpus_per_server - 1) / gpus_per_server;
}

// Pools take whole servers: the prefill pool's, then the decode pool's.
int DisaggregatedServers(const InferencexRow& row) {
  const int per_server = GpusPerServer(row.hardware);
  return ServersFor(row.prefill_gpus, per_server) + ServersFor(row.decode_gpus, per_server);
}

absl::Status CheckPrecision(const InferencexRow& row) {
  if (row.precision != "fp8" && row.precision != "fp4") {
    return absl::InvalidArgumentError(absl::StrCat("CSV line ", row.line, ": precision \"",
                                                   row.precision, "\", expected fp8 or fp4"));
  }
  return absl::OkStatus();
}

ojson ModelSection(const InferencexRow& row, const std::string& kv_dtype) {
  return ojson{{"preset", "DeepSeek-R1"},
               {"weight_dtype", "fp8"},
               {"expert_weight_dtype", row.precision == "fp4" ? "fp4" : "fp8"},
               {"kv_dtype", kv_dtype}};
}

ojson WorkloadSection(const InferencexRow& row) {
  return ojson{{"arrival", "closed_loop"},
               {"concurrency", row.conc},
               {"input_tokens", Lengths(row.isl)},
               {"output_tokens", Lengths(row.osl)}};
}

ojson SimulationSection(const SimulationWindow& window) {
  return ojson{{"duration_s", window.duration_s},
               {"warmup_s", window.warmup_s},
               {"seed", 1},
               {"fidelity", "step"}};
}

// The simulated window, from the row's own latencies.
SimulationWindow WindowFor(const InferencexRow& row) {
  MeasuredLatency measured;
  measured.ttft_s = row.median_ttft_s;
  measured.tpot_s = Scaled(row.median_tpot_ms, 1000);
  measured.osl = row.osl;
  measured.conc = row.conc;
  return SizeSimulationWindow(measured);
}

std::string ImageOf(const InferencexRow& row) {
  return row.image.empty() ? "image not recorded" : row.image;
}

std::string SourceOf(const InferencexRow& row, const InputLabels& labels) {
  return absl::StrCat("InferenceX ", row.run_url, " (", row.framework, " ", ImageOf(row), ", ",
                      row.date, ") via ", labels.csv);
}

std::string WindowText(const SimulationWindow& window) {
  return absl::StrCat(
      absl::StrFormat(" Window sized from the measured latencies: request lifetime "
                      "%.1f s, warmup %d s, duration %d s%s.",
                      window.lifetime_s, window.warmup_s, window.duration_s,
                      window.step_capped ? " (capped at 40,000 decode steps: fewer than 30 "
                                           "requests finish in the window)"
                                         : ""),
      " Generated by tools/calibrate/make_reference_set; do not edit.");
}

// Why an aggregated row's measured throughput cannot be a reference (kLittleLawFactor), or "".
std::string ThroughputContradiction(const InferencexRow& row) {
  if (!(row.output_tput_per_gpu > 0) || row.tp < 1) return "";
  // Output lengths are uniform in [floor(0.8 x OSL), OSL] (Lengths).
  const double mean_osl = (static_cast<double>(row.osl) * 4 / 5 + row.osl) / 2;
  const double step_s = row.median_tpot_ms / 1000;
  const double expected_per_gpu =
      row.conc * mean_osl / (row.median_ttft_s + mean_osl * step_s) / row.tp;  // TP GPUs
  if (!(expected_per_gpu > 0) || !std::isfinite(expected_per_gpu)) return "";
  const double ratio = row.output_tput_per_gpu / expected_per_gpu;
  if (ratio >= 1 / kLittleLawFactor && ratio <= kLittleLawFactor) return "";
  return absl::StrFormat(
      "Throughput not a reference: the measured %g output tok/s per GPU is %.3g x what %d "
      "clients at the measured median TTFT and TPOT deliver by Little's law (%.4g), outside "
      "[1/%g, %g]: the run's throughput contradicts its own latencies (failed or unfinished "
      "requests); its TPOT is kept.",
      row.output_tput_per_gpu, ratio, row.conc, expected_per_gpu, kLittleLawFactor,
      kLittleLawFactor);
}

// TPOT, then output and total tok/s per GPU (each only when > 0).
ojson References(const InferencexRow& row, double output_per_gpu, double total_per_gpu,
                 const InputLabels& labels) {
  const std::string source = SourceOf(row, labels);
  ojson references = ojson::array();
  references.push_back(
      Reference("latency_s.tpot.p50", Scaled(row.median_tpot_ms, 1000), "s", source));
  if (output_per_gpu > 0) {
    references.push_back(
        Reference("throughput.output_tok_per_s_per_gpu", output_per_gpu, "tok/s per GPU", source));
  }
  if (total_per_gpu > 0) {
    references.push_back(
        Reference("throughput.total_tok_per_s_per_gpu", total_per_gpu, "tok/s per GPU", source));
  }
  return references;
}

// The draft tokens per step of an MTP row and where they come from.
struct DraftTokens {
  int k = 0;
  std::string how;  // for the description
};

DraftTokens DefaultDraftTokens(const std::string& why) {
  return {kDefaultDraftTokens,
          absl::StrCat("assumed: ", why,
                       "; 3 is SGLang's DeepSeek MTP example, --speculative-num-steps 3 "
                       "--speculative-eagle-topk 1 --speculative-num-draft-tokens 4")};
}

// From the recipe: SGLang speculative_num_steps (with topk 1 the draft is one chain of num_steps
// tokens, num_draft_tokens = num_steps + 1 counts the verified root too), TensorRT-LLM
// num_nextn_predict_layers, ATOM num_speculative_tokens (the recipes record ATOM's default as
// "default (1 in ATOM arg_utils)"); none of them: the default.
absl::StatusOr<DraftTokens> RecipeDraftTokens(const RecipeMatch& recipe) {
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> steps,
                          PositiveIntFlag(recipe, "speculative_num_steps"));
  if (steps) {
    MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> topk,
                            PositiveIntFlag(recipe, "speculative_eagle_topk"));
    if (topk.value_or(1) != 1) {
      return BadFlag(recipe, "speculative_eagle_topk", *topk, "1 (moesim drafts one chain)");
    }
    MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> tokens,
                            PositiveIntFlag(recipe, "speculative_num_draft_tokens"));
    if (tokens && *tokens != *steps + 1) {
      return BadFlag(recipe, "speculative_num_draft_tokens", *tokens,
                     absl::StrCat(*steps + 1, " (speculative_num_steps + 1 with topk 1)"));
    }
    return DraftTokens{static_cast<int>(*steps),
                       absl::StrCat("the recipe's SGLang speculative_num_steps=", *steps,
                                    ", speculative_eagle_topk=1, speculative_num_draft_tokens=",
                                    *steps + 1, ": with topk 1, k = num_steps")};
  }
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> nextn,
                          PositiveIntFlag(recipe, "mtp_nextn_layers"));
  if (nextn) {
    return DraftTokens{static_cast<int>(*nextn),
                       absl::StrCat("the recipe's TensorRT-LLM speculative_config "
                                    "num_nextn_predict_layers=",
                                    *nextn)};
  }
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json atom, recipe.Flag("num_speculative_tokens"));
  if (atom.is_number_integer() && atom.get<int64_t>() > 0) {
    return DraftTokens{atom.get<int>(),
                       absl::StrCat("the recipe's ATOM --num-speculative-tokens ", atom.dump())};
  }
  if (atom.is_string()) {
    // "default (1 in ATOM arg_utils)": the flag was not passed; the recipe records the default.
    const std::string text = atom.get<std::string>();
    int k = 0;
    if (absl::StartsWith(text, "default (") &&
        absl::SimpleAtoi(text.substr(9, text.find(' ', 9) - 9), &k) && k > 0) {
      return DraftTokens{k, absl::StrCat("ATOM's default, the recipe passes no "
                                         "--num-speculative-tokens (",
                                         text, ")")};
    }
  }
  if (!atom.is_null()) {
    return BadFlag(recipe, "num_speculative_tokens", atom,
                   "a positive integer, \"default (N ...)\" or null");
  }
  return DefaultDraftTokens(
      absl::StrCat("recipe ", recipe.recipe_id(), " gives no draft-token count"));
}

// The scenario's speculative section for an MTP row with `draft` (k clamped to the curve's
// range), and the description's sentence about it.
struct Speculative {
  ojson section;
  std::string text;
  int k = 0;
};

Speculative SpeculativeOf(const DraftTokens& draft) {
  Speculative out;
  out.k = std::min(draft.k, kCurveMaxDraftTokens);
  out.section = ojson{
      {"method", "mtp"}, {"draft_tokens", out.k}, {"acceptance", {{"curve", kAcceptanceCurve}}}};
  out.text = absl::StrCat(" Speculative decoding: MTP with k = ", out.k, " draft tokens per step (",
                          draft.how, ")");
  if (out.k != draft.k) {
    absl::StrAppend(&out.text, "; clamped from ", draft.k, " to ", out.k,
                    ", the largest k the acceptance curve covers");
  }
  absl::StrAppend(&out.text, ". Acceptance is fitted, not measured on this row: curve ",
                  kAcceptanceCurve,
                  " in models/presets/acceptance_curves.json, the DeepSeek-R1 MTP acceptance "
                  "TensorRT-LLM measured on B200 (tech blog 1, via "
                  "../shared/reference/measurements/README.md §2 P5) with every per-position "
                  "probability scaled by the factor tools/calibrate/fit_mtp_acceptance.py fitted "
                  "to InferenceX's chat-templated random-token prompts on half the training set's "
                  "MTP rows (tools/calibrate/mtp_acceptance_fit.json).");
  return out;
}

// The model's KV cache dtype under the recipe's kv_cache_dtype.
absl::StatusOr<std::string> KvDtypeOf(const RecipeMatch& recipe) {
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json kv, recipe.Flag("kv_cache_dtype"));
  if (kv == "fp8" || kv == "fp8_e4m3") return std::string("fp8");
  if (kv.is_null() || kv == "auto" || kv == "bf16") return std::string("bf16");
  return BadFlag(recipe, "kv_cache_dtype", kv, "fp8, fp8_e4m3, auto, bf16 or null");
}

// The runtime section: the stack's preset and an override for each flag the recipe passes.
absl::StatusOr<ojson> RuntimeOf(const RecipeMatch& recipe, const StackFlags& stack) {
  ojson runtime = {{"preset", stack.preset}};
  MOESIM_ASSIGN_OR_RETURN(std::optional<double> mem, FractionFlag(recipe, stack.memory_fraction));
  if (mem) runtime["memory_fraction"] = *mem;
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> graph_bs,
                          GraphBatchFlag(recipe, stack.cuda_graph_max_batch));
  if (graph_bs) runtime["cuda_graph_max_batch"] = *graph_bs;
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> seqs, PositiveIntFlag(recipe, stack.max_num_seqs));
  if (seqs) runtime["max_num_seqs"] = *seqs;
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> tokens,
                          PositiveIntFlag(recipe, stack.max_num_batched_tokens));
  if (tokens) runtime["max_num_batched_tokens"] = *tokens;
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> block,
                          PositiveIntFlag(recipe, stack.kv_block_tokens));
  if (!block && stack.preset == "sglang") {
    MOESIM_ASSIGN_OR_RETURN(nlohmann::json backend, recipe.Flag("attention_backend"));
    if (backend == "trtllm_mla") block = 64;  // SGLang forces 64-token pages for this backend
  }
  if (block) runtime["kv_block_tokens"] = *block;
  // SGLang --num-reserved-decode-tokens: the decode side's KV headroom per request taken.
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> reserved,
                          NonNegativeIntFlag(recipe, "num_reserved_decode_tokens"));
  if (reserved) runtime["decode_reserved_tokens"] = *reserved;
  // SGLang --enable-flashinfer-allreduce-fusion: the TP all-reduce fused with residual + RMSNorm.
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json fusion, recipe.Flag("allreduce_fusion"));
  if (fusion == true) runtime["fuse_allreduce_norm"] = true;
  // TensorRT-LLM disable_overlap_scheduler: host work runs serially with the GPU.
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json no_overlap, recipe.Flag("disable_overlap_scheduler"));
  if (no_overlap == true) runtime["host_overlap"] = false;
  // cuda_graph_config null (TensorRT-LLM) or --disable-cuda-graph (SGLang): every step eager.
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json graphs, recipe.Flag("cuda_graph"));
  if (graphs == false) runtime["execution_mode"] = "eager";
  // TensorRT-LLM attention_dp_config: enable_balance with its timeout_iters and
  // batching_wait_iters (TensorRT-LLM's defaults 50 and 10 when the recipe leaves them out).
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json balance, recipe.Flag("attention_dp_balance"));
  if (balance == true) {
    ojson b = ojson::object();
    MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> timeout,
                            NonNegativeIntFlag(recipe, "attention_dp_timeout_iters"));
    if (timeout) b["timeout_iters"] = *timeout;
    MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> wait,
                            NonNegativeIntFlag(recipe, "attention_dp_batching_wait_iters"));
    if (wait) b["batching_wait_iters"] = *wait;
    runtime["attention_dp_balance"] = b;
  }
  return runtime;
}

// Whether an SGLang side with DP attention carries its MoE tokens by gather rather than DeepEP:
// SGLang's default when the recipe sets no moe_a2a_backend (or "none"): dp_attention.py gathers
// every rank's hidden states before the MoE layer and scatters the outputs back.
absl::StatusOr<bool> SglangGathers(const RecipeMatch& side, const std::string& stack,
                                   bool dp_attention) {
  if (stack != "sglang" || !dp_attention) return false;
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json backend, side.Flag("moe_a2a_backend"));
  return backend.is_null() || backend == "none";
}

// The expert placement of a side whose recipe adds redundant expert slots (SGLang's
// ep_num_redundant_experts: every EP rank holds (256 + R) / EP slots, replicas of some experts),
// or null: none given, or an EP 1 side (no placement).
absl::StatusOr<ojson> RedundantPlacement(const RecipeMatch& side, int ep) {
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> slots,
                          NonNegativeIntFlag(side, "ep_num_redundant_experts"));
  if (!slots || *slots == 0 || ep <= 1) return ojson();
  return ojson{{"kind", "redundant"}, {"redundant_slots", *slots}};
}

// A placement with redundant slots sends each token to one of an expert's replicas, which needs
// routing sampled per step (engine/moe_load_sampler.h): uniform top-k, the expected-load model's
// assumption for the other rows, sampled. Says so in the description.
void AddSampledRouting(ojson& doc) {
  doc["routing"] = {{"kind", "uniform"}};
  absl::StrAppend(&doc["description"].get_ref<std::string&>(),
                  " The recipe's redundant expert slots are placed (expert_placement redundant), "
                  "so routing is sampled per step (uniform top-k).");
}

// Flags the recipe passes that no section of the scenario consumes, as "key=value".
absl::StatusOr<std::vector<std::string>> UnmodelledFlags(const RecipeMatch& recipe,
                                                         const StackFlags& stack,
                                                         bool speculative) {
  std::set<std::string> consumed = PlanFlags();
  consumed.insert({"allreduce_fusion", "disable_overlap_scheduler", "cuda_graph",
                   "num_reserved_decode_tokens", "attention_dp_balance",
                   "attention_dp_timeout_iters", "attention_dp_batching_wait_iters"});
  if (speculative) consumed.insert(SpeculativeFlags().begin(), SpeculativeFlags().end());
  for (const std::string* k :
       {&stack.memory_fraction, &stack.cuda_graph_max_batch, &stack.max_num_seqs,
        &stack.max_num_batched_tokens, &stack.kv_block_tokens}) {
    consumed.insert(*k);
  }
  std::vector<std::string> unmodelled;
  for (const std::string& key : recipe.FlagNames()) {
    if (consumed.count(key) > 0) continue;
    MOESIM_ASSIGN_OR_RETURN(nlohmann::json v, recipe.Flag(key));
    if (!v.is_null()) unmodelled.push_back(absl::StrCat(key, "=", FlagText(v)));
  }
  return unmodelled;
}

std::vector<std::string> EnvOf(const RecipeMatch& recipe) {
  std::vector<std::string> env;
  for (const auto& [key, value] : recipe.env().items()) {
    env.push_back(absl::StrCat(key, "=", FlagText(value)));
  }
  return env;
}

// Where a disaggregated recipe's side disagrees with the CSV row's plan for it ("" when it
// does not): its tp_size, ep_size and DP-attention flag.
absl::StatusOr<std::string> PlanDisagreement(const RecipeMatch& side, const char* name, int tp,
                                             int ep, bool dp_attention) {
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> tp_size, PositiveIntFlag(side, "tp_size"));
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> ep_size, PositiveIntFlag(side, "ep_size"));
  std::optional<bool> dpa;
  for (const char* key : {"enable_dp_attention", "enable_attention_dp"}) {
    MOESIM_ASSIGN_OR_RETURN(nlohmann::json v, side.Flag(key));
    if (v.is_boolean()) dpa = v.get<bool>();
  }
  if (tp_size.value_or(tp) == tp && ep_size.value_or(ep) == ep &&
      dpa.value_or(dp_attention) == dp_attention) {
    return std::string();
  }
  return absl::StrCat(" The recipe's ", name, " side passes TP ", tp_size.value_or(tp), " EP ",
                      ep_size.value_or(ep), " DP attention ",
                      dpa.value_or(dp_attention) ? "on" : "off", " but the CSV row says TP ", tp,
                      " EP ", ep, " DP attention ", dp_attention ? "on" : "off",
                      "; the pool follows the CSV.");
}

// The file name's precision part: "fp4", or "fp4-mtp" for an MTP row.
std::string PrecisionStem(const InferencexRow& row) {
  return row.spec == "mtp" ? absl::StrCat(row.precision, "-mtp") : row.precision;
}

}  // namespace

// The redundant expert slots a recipe side adds (SGLang's ep_num_redundant_experts), 0 without
// one; a value that is not a non-negative integer counts as 0 here and is refused when the
// scenario is built.
namespace {
int RedundantSlotsOf(const RecipeMatch* side) {
  if (side == nullptr) return 0;
  auto v = NonNegativeIntFlag(*side, "ep_num_redundant_experts");
  return v.ok() && v->has_value() ? static_cast<int>(**v) : 0;
}
}  // namespace

std::string SkipReason(const InferencexRow& row, const DisaggRecipeMatch* recipe) {
  if (row.spec != "none" && row.spec != "mtp") {
    return absl::StrCat("speculative decoding (spec=", row.spec, ") is not modelled");
  }
  if (Stacks().count(row.framework) == 0) {
    return absl::StrCat("framework ", row.framework, " has no runtime preset");
  }
  if (GpuPresets().count(row.hardware) == 0) {
    return absl::StrCat("hardware ", row.hardware, " has no GPU preset");
  }
  if (!(row.median_tpot_ms > 0) || !(row.median_ttft_s >= 0)) {
    return "no positive median TPOT (the simulated window cannot be sized)";
  }
  if (!row.disagg) return "";
  const std::string prefill =
      PoolProblem("disaggregated prefill", row.prefill_tp, row.prefill_ep, row.prefill_dp_attention,
                  row.prefill_workers, row.prefill_gpus,
                  RedundantSlotsOf(recipe ? &recipe->prefill() : nullptr));
  if (!prefill.empty()) return prefill;
  const std::string decode =
      PoolProblem("disaggregated decode", row.tp, row.ep, row.dp_attention, row.decode_workers,
                  row.decode_gpus, RedundantSlotsOf(recipe ? &recipe->decode() : nullptr));
  if (!decode.empty()) return decode;
  if (row.total_gpus != row.prefill_gpus + row.decode_gpus) {
    return "disaggregated: total GPUs are not prefill + decode GPUs (inconsistent CSV columns)";
  }
  if (row.hardware == "gb300" && DisaggregatedServers(row) > kGb300TraysPerRack) {
    return "disaggregated: the pools need more than one GB300 NVL72 rack (18 trays of 4 GPUs)";
  }
  return "";
}

absl::StatusOr<ReferenceScenario> BuildReferenceScenario(const InferencexRow& row,
                                                         const RecipeMatch& recipe,
                                                         const InputLabels& labels) {
  MOESIM_RETURN_IF_ERROR(CheckPrecision(row));
  ReferenceScenario out;
  const StackFlags& stack = Stacks().at(row.framework);
  out.gpu = GpuPresets().at(row.hardware);
  out.stack = stack.preset;

  // Plan: the recipe must agree with the row on TP and DP attention; its ep_size is what ran.
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> tp_size, PositiveIntFlag(recipe, "tp_size"));
  if (tp_size && *tp_size != row.tp) {
    return BadFlag(recipe, "tp_size", *tp_size, absl::StrCat(row.tp, " (the CSV row's TP)"));
  }
  bool recipe_dpa = false;
  for (const char* key : {"enable_dp_attention", "enable_attention_dp"}) {
    MOESIM_ASSIGN_OR_RETURN(nlohmann::json v, recipe.Flag(key));
    if (v.is_null()) continue;
    if (!v.is_boolean()) return BadFlag(recipe, key, v, "true, false or null");
    recipe_dpa = recipe_dpa || v.get<bool>();
  }
  if (recipe_dpa != row.dp_attention) {
    return absl::InvalidArgumentError(
        absl::StrCat("recipe ", recipe.recipe_id(), ": DP attention ", recipe_dpa ? "on" : "off",
                     " but CSV line ", row.line, " says ", row.dp_attention ? "on" : "off"));
  }
  MOESIM_ASSIGN_OR_RETURN(std::optional<int64_t> ep_size, PositiveIntFlag(recipe, "ep_size"));
  out.ep_ran = ep_size ? static_cast<int>(*ep_size) : row.ep;
  if (!EpFits(row.tp, out.ep_ran, row.dp_attention)) {
    return BadFlag(recipe, "ep_size", out.ep_ran,
                   row.dp_attention ? absl::StrCat(row.tp, " (TP, with DP attention)")
                                    : absl::StrCat("1 or ", row.tp, " (TP)"));
  }

  // Model.
  MOESIM_ASSIGN_OR_RETURN(std::string kv_dtype, KvDtypeOf(recipe));

  // Runtime overrides, only for flags the recipe passes.
  MOESIM_ASSIGN_OR_RETURN(ojson runtime, RuntimeOf(recipe, stack));

  // Deployment.
  WorkerPlan plan = PlanOf(row.tp, out.ep_ran, row.dp_attention);
  out.plan = plan.label;
  MOESIM_ASSIGN_OR_RETURN(ojson placement, RedundantPlacement(recipe, out.ep_ran));
  if (!placement.is_null()) plan.deployment["expert_placement"] = placement;

  // Speculative decoding (MTP rows): k from the recipe, the assumed acceptance curve.
  std::optional<Speculative> speculative;
  if (row.spec == "mtp") {
    MOESIM_ASSIGN_OR_RETURN(DraftTokens draft, RecipeDraftTokens(recipe));
    speculative = SpeculativeOf(draft);
    out.draft_tokens = speculative->k;
    // SGLANG_ENABLE_SPEC_V2 keeps SGLang's overlap scheduler on for its EAGLE (MTP) path; the
    // preset's default is the v1 path, which turns it off (models/presets/runtimes.json).
    MOESIM_ASSIGN_OR_RETURN(nlohmann::json spec_v2, recipe.Flag("spec_v2"));
    if (spec_v2 == true) runtime["speculative_host_overlap"] = "mtp";
  }

  // Simulated time, from the row's own latencies.
  out.window = WindowFor(row);

  // Names.
  out.stem = absl::StrCat(row.hardware, "-", row.framework, "-", PrecisionStem(row), "-", plan.stem,
                          "-isl", row.isl, "-osl", row.osl, "-c", row.conc);
  const std::string image = ImageOf(row);

  // Description: which row, which recipe, what the recipe passes that moesim does not model.
  MOESIM_ASSIGN_OR_RETURN(std::vector<std::string> unmodelled,
                          UnmodelledFlags(recipe, stack, speculative.has_value()));
  const std::vector<std::string> env = EnvOf(recipe);
  std::string description = absl::StrCat(
      "InferenceX DeepSeek-R1-0528, aggregated serving. CSV row (", labels.csv, "): ", row.hardware,
      " ", row.framework, " ", row.precision, ", spec ", row.spec, ", TP", row.tp, " EP", row.ep,
      " DP-attention ", row.dp_attention ? "on" : "off", ", ISL ", row.isl, " OSL ", row.osl, ", ",
      row.conc, " clients; ", image, "; ", row.date, "; ", row.run_url, ". Measured: median TPOT ",
      row.median_tpot_ms_text, " ms, median TTFT ", absl::StrFormat("%g", row.median_ttft_s),
      " s, ", row.tput_per_gpu_total_text, " total and ", row.output_tput_per_gpu_text,
      " output tok/s per GPU. Recipe ", recipe.recipe_id(), " (", labels.recipes,
      "): ", recipe.source(), ", checkpoint ", recipe.model(), ".");
  if (out.ep_ran != row.ep) {
    absl::StrAppend(&description, " The MoE ran EP", out.ep_ran,
                    " (the recipe's ep_size) although the CSV says ep=", row.ep, ".");
  }
  if (!unmodelled.empty()) {
    absl::StrAppend(&description, " Also passed, not modelled: ", absl::StrJoin(unmodelled, ", "),
                    ".");
  }
  if (!env.empty()) absl::StrAppend(&description, " Env: ", absl::StrJoin(env, ", "), ".");
  if (speculative) absl::StrAppend(&description, speculative->text);
  absl::StrAppend(&description, WindowText(out.window));

  out.doc =
      ojson{{"name", absl::StrCat("inferencex-dsr1-", out.stem)},
            {"description", description},
            {"hardware", {{"gpu", {{"preset", out.gpu}}}, {"gpus_per_server", kGpusPerServer}}},
            {"model", ModelSection(row, kv_dtype)},
            {"runtime", runtime},
            {"deployment", plan.deployment}};
  if (speculative) out.doc["speculative"] = speculative->section;
  out.doc["workload"] = WorkloadSection(row);
  if (!placement.is_null()) AddSampledRouting(out.doc);
  out.doc["simulation"] = SimulationSection(out.window);
  const std::string contradiction = ThroughputContradiction(row);
  if (!contradiction.empty())
    absl::StrAppend(&out.doc["description"].get_ref<std::string&>(), " ", contradiction);
  out.doc["reference"] = contradiction.empty() ? References(row, row.output_tput_per_gpu,
                                                            row.tput_per_gpu_total, labels)
                                               : References(row, 0, 0, labels);
  return out;
}

absl::StatusOr<ReferenceScenario> BuildDisaggregatedScenario(const InferencexRow& row,
                                                             const InputLabels& labels,
                                                             const DisaggRecipeMatch* recipe) {
  MOESIM_RETURN_IF_ERROR(CheckPrecision(row));
  ReferenceScenario out;
  out.disaggregated = true;
  out.gpu = GpuPresets().at(row.hardware);
  out.stack = Stacks().at(row.framework).preset;

  const WorkerPlan prefill = PlanOf(row.prefill_tp, row.prefill_ep, row.prefill_dp_attention);
  const WorkerPlan decode = PlanOf(row.tp, row.ep, row.dp_attention);
  out.plan = decode.label;
  out.prefill_plan = prefill.label;
  out.ep_ran = row.ep;
  out.prefill_instances = row.prefill_workers;
  out.decode_instances = row.decode_workers;
  out.servers = DisaggregatedServers(row);
  out.window = WindowFor(row);
  // Each pool's runtime: the stack's preset, and with a recipe an override for each flag its
  // side passes. The model's KV dtype is the decode side's.
  const StackFlags& stack = Stacks().at(row.framework);
  ojson prefill_runtime = {{"preset", out.stack}}, decode_runtime = {{"preset", out.stack}};
  std::string kv_dtype = "bf16";
  if (recipe) {
    MOESIM_ASSIGN_OR_RETURN(prefill_runtime, RuntimeOf(recipe->prefill(), stack));
    MOESIM_ASSIGN_OR_RETURN(decode_runtime, RuntimeOf(recipe->decode(), stack));
    MOESIM_ASSIGN_OR_RETURN(kv_dtype, KvDtypeOf(recipe->decode()));
    MOESIM_ASSIGN_OR_RETURN(const std::string prefill_kv, KvDtypeOf(recipe->prefill()));
    if (prefill_kv != kv_dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("recipe ", recipe->recipe_id(), ": prefill KV ", prefill_kv,
                       " but decode KV ", kv_dtype, " (moesim has one KV dtype per model)"));
    }
  }
  // Speculative decoding (MTP rows): k from the decode side's recipe, else the default; the
  // assumed acceptance curve.
  std::optional<Speculative> speculative;
  if (row.spec == "mtp") {
    if (recipe) {
      MOESIM_ASSIGN_OR_RETURN(DraftTokens draft, RecipeDraftTokens(recipe->decode()));
      speculative = SpeculativeOf(draft);
      MOESIM_ASSIGN_OR_RETURN(nlohmann::json spec_v2, recipe->decode().Flag("spec_v2"));
      if (spec_v2 == true) decode_runtime["speculative_host_overlap"] = "mtp";
    } else {
      speculative = SpeculativeOf(DefaultDraftTokens("the row has no recipe"));
    }
    out.draft_tokens = speculative->k;
  }
  out.stem = absl::StrCat(row.hardware, "-", row.framework, "-", PrecisionStem(row), "-",
                          row.prefill_workers, "p-", prefill.stem, "-", row.decode_workers, "d-",
                          decode.stem, "-isl", row.isl, "-osl", row.osl, "-c", row.conc);

  // The CSV divides output tok/s by the decode GPUs; the reference is per GPU of both pools.
  out.output_tok_per_s_per_gpu_all =
      Scaled(row.output_tput_per_gpu * row.decode_gpus, row.total_gpus);

  const int per_server = GpusPerServer(row.hardware);
  auto side = [](int workers, const WorkerPlan& plan, int gpus) {
    return absl::StrCat(workers, " x ", plan.label, " (", gpus, " GPUs)");
  };
  std::string description = absl::StrCat(
      "InferenceX DeepSeek-R1-0528, disaggregated prefill/decode serving (", row.framework,
      "). CSV row (", labels.csv, "): ", row.hardware, " ", row.framework, " ", row.precision,
      ", spec ", row.spec, ", prefill ", row.prefill_workers, " worker(s) of TP", row.prefill_tp,
      " EP", row.prefill_ep, " DP-attention ", row.prefill_dp_attention ? "on" : "off", ", decode ",
      row.decode_workers, " worker(s) of TP", row.tp, " EP", row.ep, " DP-attention ",
      row.dp_attention ? "on" : "off", ", ", row.prefill_gpus, " + ", row.decode_gpus, " = ",
      row.total_gpus, " GPUs, ISL ", row.isl, " OSL ", row.osl, ", ", row.conc, " clients; ",
      ImageOf(row), "; ", row.date, "; ", row.run_url, ". Measured: median TPOT ",
      row.median_tpot_ms_text, " ms, median TTFT ", absl::StrFormat("%g", row.median_ttft_s),
      " s, ", row.tput_per_gpu_total_text, " total tok/s per GPU (all GPUs), ",
      row.output_tput_per_gpu_text, " output tok/s per decode GPU (",
      absl::StrFormat("%g", out.output_tok_per_s_per_gpu_all), " per GPU over all ", row.total_gpus,
      "). Pools: prefill ", side(row.prefill_workers, prefill, row.prefill_gpus), ", then decode ",
      side(row.decode_workers, decode, row.decode_gpus), ", on ", out.servers, " servers of ",
      per_server, " GPUs", row.hardware == "gb300" ? " (GB300 NVL72 compute trays)" : "", ".");
  if (recipe) {
    absl::StrAppend(&description, " Recipe ", recipe->recipe_id(), " (", labels.disagg_recipes,
                    "): ", recipe->source(), ", named by ", recipe->master_config(), "; KV cache ",
                    kv_dtype, ".");
    MOESIM_ASSIGN_OR_RETURN(const std::string prefill_plan,
                            PlanDisagreement(recipe->prefill(), "prefill", row.prefill_tp,
                                             row.prefill_ep, row.prefill_dp_attention));
    MOESIM_ASSIGN_OR_RETURN(
        const std::string decode_plan,
        PlanDisagreement(recipe->decode(), "decode", row.tp, row.ep, row.dp_attention));
    absl::StrAppend(&description, prefill_plan, decode_plan);
    for (const RecipeMatch* side : {&recipe->prefill(), &recipe->decode()}) {
      const bool is_prefill = side == &recipe->prefill();
      MOESIM_ASSIGN_OR_RETURN(std::vector<std::string> unmodelled,
                              UnmodelledFlags(*side, stack, !is_prefill && speculative));
      const std::vector<std::string> env = EnvOf(*side);
      const char* name = is_prefill ? "Prefill" : "Decode";
      if (!unmodelled.empty()) {
        absl::StrAppend(&description, " ", name,
                        " also passes, not modelled: ", absl::StrJoin(unmodelled, ", "), ".");
      }
      if (!env.empty()) {
        absl::StrAppend(&description, " ", name, " env: ", absl::StrJoin(env, ", "), ".");
      }
    }
  } else {
    absl::StrAppend(&description, " No server recipe: the row's srt-slurm recipe is not in ",
                    labels.disagg_recipes, "; both pools run the ", out.stack,
                    " preset's defaults with a bf16 KV cache.");
  }
  if (speculative) absl::StrAppend(&description, speculative->text);
  // SGLang resets max_running_requests to 48 when it speculates without the flag; the
  // disaggregated rows' high-concurrency throughput implies more ran, so their recipes (not
  // collected) must have passed one.
  const bool sglang_mtp = speculative && out.stack == "sglang" && !recipe;
  if (sglang_mtp) {
    absl::StrAppend(
        &description,
        " SGLang caps a speculating server at 48 running requests unless "
        "--max-running-requests is given; with no recipe, the decode workers are assumed to "
        "have been given the row's concurrency (",
        row.conc,
        "): at high concurrency the measured throughput implies more than "
        "48 ran.");
  }
  absl::StrAppend(&description, WindowText(out.window));

  ojson hardware = {{"gpu", {{"preset", out.gpu}}}, {"gpus_per_server", per_server}};
  if (out.servers > 1) hardware["servers_per_rack"] = out.servers;
  std::string decode_dispatch;
  ojson prefill_placement, decode_placement;  // null: experts placed once each
  ojson prefill_pool = {{"name", "prefill"}, {"role", "prefill"}};
  prefill_pool.update(prefill.deployment);
  prefill_pool["instances"] = row.prefill_workers;
  if (recipe) {
    MOESIM_ASSIGN_OR_RETURN(bool gather,
                            SglangGathers(recipe->prefill(), out.stack, row.prefill_dp_attention));
    if (gather) prefill_pool["moe_dispatch"] = "gather";
    MOESIM_ASSIGN_OR_RETURN(gather, SglangGathers(recipe->decode(), out.stack, row.dp_attention));
    if (gather) decode_dispatch = "gather";
    MOESIM_ASSIGN_OR_RETURN(prefill_placement,
                            RedundantPlacement(recipe->prefill(), row.prefill_ep));
    MOESIM_ASSIGN_OR_RETURN(decode_placement, RedundantPlacement(recipe->decode(), row.ep));
  }
  if (!prefill_placement.is_null()) prefill_pool["expert_placement"] = prefill_placement;
  if (prefill_runtime.size() > 1) prefill_pool["runtime"] = prefill_runtime;
  ojson decode_pool = {{"name", "decode"}, {"role", "decode"}};
  decode_pool.update(decode.deployment);
  decode_pool["instances"] = row.decode_workers;
  if (!decode_dispatch.empty()) decode_pool["moe_dispatch"] = decode_dispatch;
  if (!decode_placement.is_null()) decode_pool["expert_placement"] = decode_placement;
  if (sglang_mtp) decode_runtime["max_num_seqs"] = row.conc;
  if (decode_runtime.size() > 1) decode_pool["runtime"] = decode_runtime;

  out.doc = ojson{{"name", absl::StrCat("inferencex-dsr1-", out.stem)},
                  {"description", description},
                  {"hardware", hardware},
                  {"model", ModelSection(row, kv_dtype)},
                  {"runtime", {{"preset", out.stack}}},
                  {"deployment", {{"pools", ojson::array({prefill_pool, decode_pool})}}}};
  if (speculative) out.doc["speculative"] = speculative->section;
  out.doc["workload"] = WorkloadSection(row);
  if (!prefill_placement.is_null() || !decode_placement.is_null()) AddSampledRouting(out.doc);
  out.doc["simulation"] = SimulationSection(out.window);
  out.doc["reference"] =
      References(row, out.output_tok_per_s_per_gpu_all, row.tput_per_gpu_total, labels);
  return out;
}

}  // namespace moesim::calibrate
