// Bad scenario inputs: every one must be rejected, fast, with a message that names the file, the
// JSON path, the offending value (where there is one) and what was expected.
//
// Each case starts from scenarios/default.json (a valid scenario), breaks one thing, and checks
// the message of ParseScenario / LoadScenario, or the exit status and stderr of the moesim CLI.
// The last cases once documented parser problems (absurd magnitudes, duplicate keys); fixed.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "models/preset_library.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;

constexpr const char* kFile = "bad.json";

const PresetLibrary& Presets() {
  static const absl::StatusOr<PresetLibrary>* lib =
      new absl::StatusOr<PresetLibrary>(PresetLibrary::Load(MOESIM_SOURCE_DIR "/models/presets"));
  INFO((lib->ok() ? std::string("ok") : std::string(lib->status().message())));
  REQUIRE(lib->ok());
  return **lib;
}

// scenarios/default.json, parsed: a valid scenario each case breaks in one place.
json Base() {
  std::ifstream in(MOESIM_SOURCE_DIR "/scenarios/default.json");
  REQUIRE(in.good());
  return json::parse(in);
}

// A published measurement as scenarios/reference/ writes them.
json Reference() {
  return {{"metric", "throughput.output_tok_per_s"},
          {"value", 5569},
          {"unit", "tok/s"},
          {"source", "seed 000, C=256"},
          {"tolerance_pct", 20}};
}

// Parses `doc` as "bad.json"; requires that it fails and returns the message.
std::string LoadError(const json& doc) {
  const auto start = std::chrono::steady_clock::now();
  auto s = ParseScenario(doc, kFile, Presets());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s.ok()) FAIL("bad input was accepted: " << doc.dump());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(seconds < 2.0);  // bad inputs fail fast
  return std::string(s.status().message());
}

// Checks the four parts of an error message. `value` and `expected` are substrings; an empty
// `value` means the error has no single offending value (a missing or unknown key).
void ExpectError(const json& doc, const std::string& path, const std::string& value,
                 const std::string& expected) {
  const std::string msg = LoadError(doc);
  INFO("message: " << msg);
  CHECK_THAT(msg, StartsWith(std::string(kFile) + ": "));              // (a) file
  CHECK_THAT(msg, Contains(std::string(kFile) + ": " + path + ": "));  // (b) JSON path
  if (!value.empty()) CHECK_THAT(msg, Contains(value));                // (c) value
  CHECK_THAT(msg, Contains(expected));                                 // (d) expectation
}

// --- Unknown keys ---------------------------------------------------------------------------

TEST_CASE("unknown top-level key", "[bad-input]") {
  json doc = Base();
  doc["colour"] = "blue";
  ExpectError(doc, "$.colour", "", "unknown key; keys accepted here: ");
  CHECK_THAT(LoadError(doc), Contains("workload"));  // lists what is accepted
}

TEST_CASE("unknown key in runtime override", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["max_num_seq"] = 10;  // typo of max_num_seqs
  ExpectError(doc, "$.runtime.max_num_seq", "", "unknown key; keys accepted here: ");
  CHECK_THAT(LoadError(doc), Contains("max_num_seqs"));
}

TEST_CASE("unknown key in workload", "[bad-input]") {
  json doc = Base();
  doc["workload"]["thinking_time_s"] = 1;
  ExpectError(doc, "$.workload.thinking_time_s", "", "unknown key; keys accepted here: ");
}

TEST_CASE("unknown key in workload length", "[bad-input]") {
  json doc = Base();
  doc["workload"]["input_tokens"]["mean_tokens"] = 30;
  ExpectError(doc, "$.workload.input_tokens.mean_tokens", "", "unknown key");
}

TEST_CASE("unknown key in simulation", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["duration"] = 90;  // typo of duration_s
  ExpectError(doc, "$.simulation.duration", "", "unknown key; keys accepted here: ");
  CHECK_THAT(LoadError(doc), Contains("duration_s"));
}

TEST_CASE("unknown key in model override", "[bad-input]") {
  json doc = Base();
  doc["model"]["moe"] = {{"top_kk", 4}};
  ExpectError(doc, "$.model.moe.top_kk", "", "unknown key; keys accepted here: ");
}

TEST_CASE("unknown key in deployment", "[bad-input]") {
  json doc = Base();
  doc["deployment"]["data_parallel"] = 2;
  ExpectError(doc, "$.deployment.data_parallel", "", "unknown key; keys accepted here: ");
}

TEST_CASE("unknown key in gpu override", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["hbm_gib"] = 80;
  ExpectError(doc, "$.hardware.gpu.hbm_gib", "", "unknown key; keys accepted here: ");
}

TEST_CASE("unknown key in economics", "[bad-input]") {
  json doc = Base();
  doc["economics"] = {{"usd_per_hour", 3}};
  ExpectError(doc, "$.economics.usd_per_hour", "", "unknown key; keys accepted here: ");
}

TEST_CASE("unknown key in a reference entry", "[bad-input]") {
  json doc = Base();
  json ref = Reference();
  ref["note"] = "x";
  doc["reference"] = json::array({ref});
  ExpectError(doc, "$.reference[0].note", "", "unknown key");
}

// --- Wrong types ----------------------------------------------------------------------------

TEST_CASE("string where a number is expected", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["hbm_gb"] = "lots";
  ExpectError(doc, "$.hardware.gpu.hbm_gb", "got \"lots\"", "expected a number > 0");
}

TEST_CASE("string where an integer is expected", "[bad-input]") {
  json doc = Base();
  doc["deployment"]["tensor_parallel"] = "2";
  ExpectError(doc, "$.deployment.tensor_parallel", "got \"2\"", "expected an integer");
}

TEST_CASE("string where a boolean is expected", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["dynamic_activation_quant"] = "yes";
  ExpectError(doc, "$.runtime.dynamic_activation_quant", "got \"yes\"", "expected true or false");
}

TEST_CASE("string where an object is expected", "[bad-input]") {
  json doc = Base();
  doc["workload"]["input_tokens"] = "30";
  ExpectError(doc, "$.workload.input_tokens", "got \"30\"", "expected a JSON object");
}

TEST_CASE("number where a string is expected", "[bad-input]") {
  json doc = Base();
  doc["description"] = 42;
  ExpectError(doc, "$.description", "got 42", "expected a string");
}

TEST_CASE("number where a model section object is expected", "[bad-input]") {
  json doc = Base();
  doc["model"]["moe"] = 5;
  ExpectError(doc, "$.model.moe", "got 5", "expected a JSON object");
}

TEST_CASE("null gpu", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"] = nullptr;
  ExpectError(doc, "$.hardware.gpu", "got null", "expected an object or a preset name");
}

TEST_CASE("scenario document that is not an object", "[bad-input]") {
  ExpectError(json::array({1, 2}), "$", "got [1,2]", "expected a JSON object");
}

TEST_CASE("curve that is not an array", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["kernels"] = {{"gemm", {{"bf16", {{"mfu_vs_rows", "fast"}}}}}};
  ExpectError(doc, "$.hardware.gpu.kernels.gemm.bf16.mfu_vs_rows", "got \"fast\"",
              "expected a JSON array");
}

TEST_CASE("reference that is not an array", "[bad-input]") {
  json doc = Base();
  doc["reference"] = json::object();
  ExpectError(doc, "$.reference", "got {}", "expected an array of measurements");
}

// --- Out-of-range numbers ---------------------------------------------------------------------

TEST_CASE("negative HBM size", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["hbm_gb"] = -80;
  ExpectError(doc, "$.hardware.gpu.hbm_gb", "got -80", "expected a number > 0");
}

TEST_CASE("negative activation reserve", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["activation_reserve_gb"] = -1;
  ExpectError(doc, "$.runtime.activation_reserve_gb", "got -1", "expected a number >= 0");
}

TEST_CASE("negative seed", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["seed"] = -1;
  ExpectError(doc, "$.simulation.seed", "got -1", "expected an integer (a number >= 0");
}

TEST_CASE("negative price", "[bad-input]") {
  json doc = Base();
  doc["economics"] = {{"usd_per_gpu_hour", -1}};
  ExpectError(doc, "$.economics.usd_per_gpu_hour", "got -1", "expected a number >= 0");
}

TEST_CASE("zero concurrency", "[bad-input]") {
  json doc = Base();
  doc["workload"]["concurrency"] = 0;
  ExpectError(doc, "$.workload.concurrency", "got 0", "expected an integer (a number >= 1");
}

TEST_CASE("zero prompt length", "[bad-input]") {
  json doc = Base();
  doc["workload"]["input_tokens"]["tokens"] = 0;
  ExpectError(doc, "$.workload.input_tokens.tokens", "got 0", "expected an integer (a number >= 1");
}

TEST_CASE("zero duration", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["duration_s"] = 0;
  doc["simulation"]["warmup_s"] = 0;
  ExpectError(doc, "$.simulation.duration_s", "got 0", "expected a number > 0");
}

TEST_CASE("zero KV block size", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["kv_block_tokens"] = 0;
  ExpectError(doc, "$.runtime.kv_block_tokens", "got 0",
              "expected an integer (a number >= 1 and <= 4096)");
}

TEST_CASE("zero GPUs per server", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 0;
  ExpectError(doc, "$.hardware.gpus_per_server", "got 0", "expected an integer (a number >= 1");
}

TEST_CASE("zero racks", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["racks"] = 0;
  ExpectError(doc, "$.hardware.racks", "got 0", "expected an integer (a number >= 1");
}

TEST_CASE("memory_fraction above 1", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["memory_fraction"] = 1.5;
  ExpectError(doc, "$.runtime.memory_fraction", "got 1.5", "expected a number > 0 and <= 1");
}

TEST_CASE("a removed runtime key is rejected, not ignored", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["gpu_memory_utilization"] = 0.9;  // renamed memory_fraction
  ExpectError(doc, "$.runtime.gpu_memory_utilization", "unknown key", "memory_fraction");
}

TEST_CASE("zero HBM efficiency of a kernel class", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["kernels"] = {{"elementwise", {{"hbm_efficiency", 0}}}};
  ExpectError(doc, "$.hardware.gpu.kernels.elementwise.hbm_efficiency", "got 0",
              "expected a number > 0 and <= 1");
}

TEST_CASE("unknown batching policy", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["batching"] = "greedy";
  ExpectError(doc, "$.runtime.batching", "got \"greedy\"", "\"mixed\", \"prefill_first\"");
}

TEST_CASE("log-normal sigma out of range", "[bad-input]") {
  json doc = Base();
  doc["workload"]["output_tokens"] = {
      {"kind", "lognormal"}, {"median_tokens", 500}, {"sigma", 7}, {"max_tokens", 2000}};
  ExpectError(doc, "$.workload.output_tokens.sigma", "got 7", "expected a number >= 0 and <= 5");
}

TEST_CASE("tensor_parallel above its range", "[bad-input]") {
  json doc = Base();
  doc["deployment"]["tensor_parallel"] = 2048;
  ExpectError(doc, "$.deployment.tensor_parallel", "got 2048", "<= 1024");
}

TEST_CASE("reference with zero tolerance", "[bad-input]") {
  json doc = Base();
  json ref = Reference();
  ref["tolerance_pct"] = 0;
  doc["reference"] = json::array({ref});
  ExpectError(doc, "$.reference[0].tolerance_pct", "got 0", "expected a number > 0");
}

// --- Non-integers -----------------------------------------------------------------------------

TEST_CASE("non-integer tensor_parallel", "[bad-input]") {
  json doc = Base();
  doc["deployment"]["tensor_parallel"] = 1.5;
  ExpectError(doc, "$.deployment.tensor_parallel", "got 1.5", "expected an integer");
}

TEST_CASE("non-integer layer count in model override", "[bad-input]") {
  json doc = Base();
  doc["model"]["layers"] = 47.5;
  ExpectError(doc, "$.model.layers", "got 47.5", "expected an integer");
}

// --- Unknown presets --------------------------------------------------------------------------

TEST_CASE("unknown GPU preset", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["preset"] = "H900";
  ExpectError(doc, "$.hardware.gpu.preset", "got \"H900\"", "expected a gpus.json preset: ");
  CHECK_THAT(LoadError(doc), Contains("H200"));  // lists the known ones
}

TEST_CASE("unknown GPU preset in shorthand form", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"] = "H999";
  const std::string msg = LoadError(doc);
  INFO("message: " << msg);
  CHECK_THAT(msg, StartsWith("bad.json: $.hardware.gpu"));
  CHECK_THAT(msg, Contains("got \"H999\""));
  CHECK_THAT(msg, Contains("expected a gpus.json preset: "));
}

TEST_CASE("GPU preset name that is not a string", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["preset"] = 5;
  ExpectError(doc, "$.hardware.gpu.preset", "got 5", "expected a gpus.json preset: ");
}

TEST_CASE("unknown model preset", "[bad-input]") {
  json doc = Base();
  doc["model"]["preset"] = "Qwen4-1T";
  ExpectError(doc, "$.model.preset", "got \"Qwen4-1T\"", "expected a models.json preset: ");
  CHECK_THAT(LoadError(doc), Contains("Qwen3-30B-A3B"));
}

TEST_CASE("unknown runtime preset", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["preset"] = "tgi";
  ExpectError(doc, "$.runtime.preset", "got \"tgi\"", "expected a runtimes.json preset: ");
  CHECK_THAT(LoadError(doc), Contains("vllm"));
}

// --- Bad enums --------------------------------------------------------------------------------

TEST_CASE("bad execution_mode", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["execution_mode"] = "turbo";
  ExpectError(doc, "$.runtime.execution_mode", "got \"turbo\"",
              "expected one of \"eager\", \"cuda_graph\"");
}

TEST_CASE("bad fidelity", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["fidelity"] = "ultra";
  ExpectError(doc, "$.simulation.fidelity", "got \"ultra\"",
              "expected one of \"step\", \"layer\", \"kernel\"");
}

TEST_CASE("kernel fidelity under DP attention is rejected, not ignored", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["deployment"] = {{"attention", "data_parallel"}, {"expert_parallel", 8}};
  doc["simulation"]["fidelity"] = "kernel";
  ExpectError(doc, "$.simulation.fidelity", "got \"kernel\"",
              "expected \"layer\" or \"step\" with \"attention\": \"data_parallel\"");
}

TEST_CASE("an explicit mtp_layers is rejected: the speculative section uses the preset's",
          "[bad-input]") {
  json doc = Base();
  doc["model"] = {{"preset", "DeepSeek-V3"}, {"mtp_layers", 2}};
  ExpectError(doc, "$.model.mtp_layers", "got 2", "add a \"speculative\" section");
}

TEST_CASE("bad arrival process", "[bad-input]") {
  json doc = Base();
  doc["workload"]["arrival"] = "burst";
  ExpectError(doc, "$.workload.arrival", "got \"burst\"",
              "expected one of \"closed_loop\", \"poisson\"");
}

TEST_CASE("bad length distribution kind", "[bad-input]") {
  json doc = Base();
  doc["workload"]["output_tokens"]["kind"] = "gaussian";
  ExpectError(doc, "$.workload.output_tokens.kind", "got \"gaussian\"",
              "expected one of \"fixed\", \"uniform\", \"lognormal\"");
}

TEST_CASE("bad weight dtype", "[bad-input]") {
  json doc = Base();
  doc["model"]["weight_dtype"] = "int4";
  ExpectError(doc, "$.model.weight_dtype", "got \"int4\"",
              "expected one of \"bf16\", \"fp8\", \"fp4\"");
}

TEST_CASE("bad attention kind in model override", "[bad-input]") {
  json doc = Base();
  doc["model"]["attention"] = {{"kind", "sparse"}};
  ExpectError(doc, "$.model.attention.kind", "got \"sparse\"",
              "expected one of \"mha\", \"gqa\", \"mla\"");
}

TEST_CASE("bad attention pattern entry", "[bad-input]") {
  json doc = Base();
  doc["model"]["attention_pattern"] = json::array({"full", "local"});
  ExpectError(doc, "$.model.attention_pattern[1]", "got \"local\"",
              "\"full\", \"sliding\" or \"linear\"");
}

// --- Inconsistent values ----------------------------------------------------------------------

TEST_CASE("uniform length with max below min", "[bad-input]") {
  json doc = Base();
  doc["workload"]["output_tokens"] = {{"kind", "uniform"}, {"min_tokens", 100}, {"max_tokens", 10}};
  ExpectError(doc, "$.workload.output_tokens.max_tokens", "got 10",
              "expected an integer >= min_tokens (100)");
}

// Found by the mutation run (median 1e300 overflowed a token count): a median is a token count,
// and one above max_tokens would cut every other sample to the max.
TEST_CASE("log-normal length with the median above max or out of range", "[bad-input]") {
  json doc = Base();
  doc["workload"]["output_tokens"] = {
      {"kind", "lognormal"}, {"median_tokens", 4000}, {"sigma", 1}, {"max_tokens", 2000}};
  ExpectError(doc, "$.workload.output_tokens.max_tokens", "got 2000",
              "expected an integer >= median_tokens (4000)");
  doc["workload"]["output_tokens"]["median_tokens"] = 1e300;
  ExpectError(doc, "$.workload.output_tokens.median_tokens", "got 1e+300",
              "a number >= 1 and <= 1e+07");
}

TEST_CASE("warmup equal to duration", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["warmup_s"] = 90;
  doc["simulation"]["duration_s"] = 90;
  ExpectError(doc, "$.simulation.warmup_s", "got 90", "expected a number below duration_s (90)");
}

TEST_CASE("warmup longer than duration", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["warmup_s"] = 120;
  ExpectError(doc, "$.simulation.warmup_s", "got 120", "expected a number below duration_s (90)");
}

TEST_CASE("poisson arrivals without a rate", "[bad-input]") {
  json doc = Base();
  doc["workload"]["arrival"] = "poisson";
  doc["workload"].erase("concurrency");
  ExpectError(doc, "$.workload.rate_per_s", "", "missing required key");
}

TEST_CASE("idle power not below TDP", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["idle_w"] = 800;  // H200 TDP is 700 W
  ExpectError(doc, "$.hardware.gpu.idle_w", "got 800", "expected a number below tdp_w");
}

json WithGemmCurve(const json& curve) {
  json doc = Base();
  doc["hardware"]["gpu"]["kernels"] = {{"gemm", {{"fp8_tensor", {{"mfu_vs_rows", curve}}}}}};
  return doc;
}

TEST_CASE("efficiency curve with decreasing sizes", "[bad-input]") {
  ExpectError(WithGemmCurve(json::array({json::array({64, 0.3}), json::array({16, 0.2})})),
              "$.hardware.gpu.kernels.gemm.fp8_tensor.mfu_vs_rows[1]", "got [16,0.2]",
              "pairs with increasing size");
}

TEST_CASE("efficiency curve with efficiency above 1", "[bad-input]") {
  ExpectError(WithGemmCurve(json::array({json::array({1, 1.5})})),
              "$.hardware.gpu.kernels.gemm.fp8_tensor.mfu_vs_rows[0]", "got [1,1.5]",
              "efficiency in (0, 1]");
}

TEST_CASE("empty efficiency curve", "[bad-input]") {
  ExpectError(WithGemmCurve(json::array()), "$.hardware.gpu.kernels.gemm.fp8_tensor.mfu_vs_rows",
              "got []", "a non-empty array of");
}

TEST_CASE("top_k above routed_experts in model override", "[bad-input]") {
  json doc = Base();
  doc["model"]["moe"] = {{"top_k", 200}};
  ExpectError(doc, "$.model.moe.top_k", "got 200", "expected at most routed_experts (128)");
}

TEST_CASE("n_group not dividing routed_experts", "[bad-input]") {
  json doc = Base();
  doc["model"]["moe"] = {{"n_group", 3}};
  ExpectError(doc, "$.model.moe.n_group", "got 3", "expected a divisor of routed_experts (128)");
}

TEST_CASE("kv_heads not dividing q_heads", "[bad-input]") {
  json doc = Base();
  doc["model"]["attention"] = {{"kv_heads", 5}};
  ExpectError(doc, "$.model.attention.kv_heads", "got 5", "expected a divisor of q_heads (32)");
}

TEST_CASE("first_dense_layers above layers", "[bad-input]") {
  json doc = Base();
  doc["model"]["moe"] = {{"first_dense_layers", 100}, {"dense_inter", 1024}};
  ExpectError(doc, "$.model.moe.first_dense_layers", "got 100", "expected at most layers (48)");
}

TEST_CASE("dense layers without dense_inter", "[bad-input]") {
  json doc = Base();
  doc["model"]["moe"] = {{"first_dense_layers", 2}};
  ExpectError(doc, "$.model.moe.dense_inter", "", "required (> 0) when first_dense_layers > 0");
}

TEST_CASE("sliding attention without a window", "[bad-input]") {
  json doc = Base();
  doc["model"]["attention_pattern"] = json::array({"sliding", "full"});
  ExpectError(doc, "$.model.sliding_window_tokens", "", "missing required key");
}

// --- Parallel plan ----------------------------------------------------------------------------

TEST_CASE("tensor_parallel not dividing gpus_per_server", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["deployment"]["tensor_parallel"] = 3;
  ExpectError(doc, "$.deployment.tensor_parallel", "got 3",
              "expected a divisor or a multiple of hardware.gpus_per_server (8)");
}

TEST_CASE("tensor_parallel above the cluster's GPUs", "[bad-input]") {
  json doc = Base();
  doc["deployment"]["tensor_parallel"] = 2;  // default.json has a single GPU
  ExpectError(doc, "$.deployment.tensor_parallel", "got 2",
              "expected at most the cluster's 1 GPUs");
}

TEST_CASE("tensor_parallel not dividing the attention heads", "[bad-input]") {
  // Qwen3-30B-A3B has 32 query heads; a GB200 NVL72 domain allows 64 GPUs per instance.
  json doc = Base();
  doc["hardware"] = {{"gpu", "GB200"}, {"gpus_per_server", 64}};
  doc["deployment"]["tensor_parallel"] = 64;
  ExpectError(doc, "$.deployment.tensor_parallel", "got 64",
              "expected a divisor of the model's 32 attention heads");
}

TEST_CASE("tensor_parallel not dividing the linear-attention value heads", "[bad-input]") {
  json doc = Base();
  doc["hardware"] = {{"gpu", "GB200"}, {"gpus_per_server", 16}};
  doc["model"] = {{"preset", "Qwen3-Next-80B-A3B"}, {"linear_attention", {{"v_heads", 24}}}};
  doc["deployment"]["tensor_parallel"] = 16;
  ExpectError(doc, "$.deployment.tensor_parallel", "got 16",
              "expected a divisor of the model's 24 linear-attention value heads");
}

TEST_CASE("tensor_parallel not dividing the expert intermediate size", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["model"]["moe"] = {{"expert_inter", 100}};
  doc["deployment"]["tensor_parallel"] = 8;
  ExpectError(doc, "$.deployment.tensor_parallel", "got 8",
              "whose quotient (8) divides the expert intermediate size 100");
}

TEST_CASE("expert_parallel not dividing tensor_parallel", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["deployment"] = {{"tensor_parallel", 2}, {"expert_parallel", 4}};
  ExpectError(doc, "$.deployment.expert_parallel", "got 4",
              "expected a divisor of tensor_parallel (2)");
}

TEST_CASE("dense_tensor_parallel not dividing tensor_parallel", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["deployment"] = {{"tensor_parallel", 8}, {"dense_tensor_parallel", 3}};
  ExpectError(doc, "$.deployment.dense_tensor_parallel", "got 3",
              "expected a divisor of tensor_parallel (8)");
}

TEST_CASE("expert_parallel not dividing the routed experts", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["model"]["moe"] = {{"routed_experts", 12}};
  doc["deployment"] = {{"tensor_parallel", 8}, {"expert_parallel", 8}};
  ExpectError(doc, "$.deployment.expert_parallel", "got 8",
              "expected a divisor of the model's 12 routed experts");
}

TEST_CASE("more instances than GPUs", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["deployment"] = {{"tensor_parallel", 2}, {"instances", 5}};
  ExpectError(doc, "$.deployment.instances", "got 5",
              "expected at most 4 instances of 2 GPUs on 8 GPUs");
}

TEST_CASE("gpus_per_server above the scale-up domain", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 16;
  ExpectError(doc, "$.hardware.gpus_per_server", "got 16",
              "expected a scale-up domain of at most 8 GPUs for H200 (this one has 16)");
}

// --- Memory -----------------------------------------------------------------------------------

TEST_CASE("weights that do not fit in HBM", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"] = {{"preset", "H100"}};
  doc["model"] = {{"preset", "DeepSeek-V3"}};
  ExpectError(doc, "$.deployment", "weights 673.15 GB", "the plan does not fit in HBM");
  CHECK_THAT(LoadError(doc), Contains("memory_fraction 0.900 of the HBM, 85.90 GB"));
}

TEST_CASE("a sequence longer than the KV budget", "[bad-input]") {
  json doc = Base();
  doc["workload"]["output_tokens"]["tokens"] = 5000000;
  ExpectError(doc, "$.deployment", "KV of one 5000030-token sequence",
              "the plan does not fit in HBM");
}

TEST_CASE("activation reserve larger than HBM", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["activation_reserve_gb"] = 500;
  ExpectError(doc, "$.deployment", "activations and workspaces 500.00 GB",
              "the plan does not fit in HBM");
}

// --- Missing keys -----------------------------------------------------------------------------

TEST_CASE("missing workload", "[bad-input]") {
  json doc = Base();
  doc.erase("workload");
  ExpectError(doc, "$.workload", "", "missing required key");
}

TEST_CASE("missing name", "[bad-input]") {
  json doc = Base();
  doc.erase("name");
  ExpectError(doc, "$.name", "", "missing required key");
}

TEST_CASE("missing gpus_per_server", "[bad-input]") {
  json doc = Base();
  doc["hardware"].erase("gpus_per_server");
  ExpectError(doc, "$.hardware.gpus_per_server", "", "missing required key");
}

TEST_CASE("missing duration_s", "[bad-input]") {
  json doc = Base();
  doc["simulation"].erase("duration_s");
  ExpectError(doc, "$.simulation.duration_s", "", "missing required key");
}

TEST_CASE("custom GPU without a preset misses required fields", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"] = {{"hbm_gb", 80}};
  ExpectError(doc, "$.hardware.gpu.bf16_tflops", "", "missing required key");
}

TEST_CASE("reference entry missing tolerance_pct", "[bad-input]") {
  json doc = Base();
  json ref = Reference();
  ref.erase("tolerance_pct");
  doc["reference"] = json::array({Reference(), ref});
  ExpectError(doc, "$.reference[1].tolerance_pct", "", "missing required key");
}

// --- Files: malformed JSON, missing files -----------------------------------------------------

// A file under /tmp, unique to this process, removed when the object goes.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    static std::atomic<int> counter{0};
    path_ = "/tmp/moesim_bad_input_" + std::to_string(getpid()) + "_" + std::to_string(counter++) +
            ".json";
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE(out.good());
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string LoadFileError(const std::string& path, absl::StatusCode code) {
  auto s = LoadScenario(path, Presets());
  if (s.ok()) FAIL("bad file was accepted: " << path);
  CHECK(s.status().code() == code);
  const std::string msg(s.status().message());
  INFO("message: " << msg);
  CHECK_THAT(msg, StartsWith(path + ": "));
  return msg;
}

TEST_CASE("truncated JSON text", "[bad-input]") {
  TempFile f("{\"name\": \"x\", \"hardware\": ");
  CHECK_THAT(LoadFileError(f.path(), absl::StatusCode::kInvalidArgument),
             Contains("malformed JSON at byte"));
}

TEST_CASE("JSON text with a trailing comma", "[bad-input]") {
  std::string text = Base().dump(2);
  text.insert(text.rfind('}'), ",");
  TempFile f(text);
  CHECK_THAT(LoadFileError(f.path(), absl::StatusCode::kInvalidArgument),
             Contains("malformed JSON at byte"));
}

TEST_CASE("JSON nested 10,000 deep is refused with the path where it went too deep",
          "[bad-input]") {
  // A 20 KB document: before the bound, memory grew with the square of the depth and the JSON
  // library's recursive serializer overflowed the stack on the error path.
  TempFile f("{\"name\": " + std::string(10000, '[') + std::string(10000, ']') + "}");
  const std::string msg = LoadFileError(f.path(), absl::StatusCode::kInvalidArgument);
  CHECK_THAT(msg, Contains("$.name"));
  CHECK_THAT(msg, Contains("nested deeper than 64 levels"));
  CHECK(msg.size() < 400);  // the path is shortened
}

TEST_CASE("JSON nested 64 deep is still read", "[bad-input]") {
  // The bound counts objects and arrays: the root object plus 63 arrays is allowed, and the
  // error is then the scenario's own (a name must be a string).
  TempFile f("{\"name\": " + std::string(63, '[') + std::string(63, ']') + "}");
  const std::string msg = LoadFileError(f.path(), absl::StatusCode::kInvalidArgument);
  CHECK_THAT(msg, !Contains("nested deeper"));
}

TEST_CASE("empty scenario file", "[bad-input]") {
  TempFile f("");
  CHECK_THAT(LoadFileError(f.path(), absl::StatusCode::kInvalidArgument),
             Contains("malformed JSON"));
}

TEST_CASE("missing scenario file", "[bad-input]") {
  const std::string path =
      "/tmp/moesim_bad_input_" + std::to_string(getpid()) + "_does_not_exist.json";
  CHECK_THAT(LoadFileError(path, absl::StatusCode::kNotFound),
             Contains("cannot open scenario file"));
}

TEST_CASE("scenario path that is a directory", "[bad-input]") {
  auto s = LoadScenario("/tmp", Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()), StartsWith("/tmp: "));
}

TEST_CASE("bad value in a file names that file", "[bad-input]") {
  json doc = Base();
  doc["runtime"]["memory_fraction"] = 1.5;
  TempFile f(doc.dump(2));
  const std::string msg = LoadFileError(f.path(), absl::StatusCode::kInvalidArgument);
  CHECK_THAT(msg, Contains(f.path() + ": $.runtime.memory_fraction: got 1.5"));
}

// --- The moesim CLI ---------------------------------------------------------------------------

struct CliResult {
  int exit_code = -1;
  std::string err;
};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// Runs `moesim <args>` under a 60 s guard (exit 124 if it hangs) and captures stderr.
CliResult RunMoesim(const std::string& args, int timeout_s = 60) {
  static std::atomic<int> counter{0};
  const std::string err_path = "/tmp/moesim_bad_input_" + std::to_string(getpid()) + "_" +
                               std::to_string(counter++) + ".stderr";
  const std::string cmd = "timeout " + std::to_string(timeout_s) + " " + Quote(MOESIM_BINARY) +
                          " " + args + " >/dev/null 2>" + Quote(err_path);
  const int status = std::system(cmd.c_str());
  CliResult r;
  REQUIRE(status != -1);
  REQUIRE(WIFEXITED(status));
  r.exit_code = WEXITSTATUS(status);
  std::ifstream in(err_path);
  std::stringstream text;
  text << in.rdbuf();
  r.err = text.str();
  std::remove(err_path.c_str());
  return r;
}

TEST_CASE("cli: a valid scenario runs", "[cli]") {
  const CliResult r =
      RunMoesim("run --quiet " + Quote(MOESIM_SOURCE_DIR "/scenarios/default.json"));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("cli: run on a bad scenario exits 2 naming the file", "[bad-input][cli]") {
  json doc = Base();
  doc["hardware"]["gpu"]["hbm_gb"] = -80;
  TempFile f(doc.dump(2));
  const CliResult r = RunMoesim("run " + Quote(f.path()));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(f.path() + ": $.hardware.gpu.hbm_gb: got -80"));
}

TEST_CASE("cli: run on malformed JSON exits 2 naming the file", "[bad-input][cli]") {
  TempFile f("{ not json");
  const CliResult r = RunMoesim("run " + Quote(f.path()));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(f.path() + ": malformed JSON"));
}

TEST_CASE("cli: run on a missing file exits 2", "[bad-input][cli]") {
  const std::string path = "/tmp/moesim_bad_input_" + std::to_string(getpid()) + "_missing.json";
  const CliResult r = RunMoesim("run " + Quote(path));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(path));
}

TEST_CASE("cli: explain on a bad scenario exits 2", "[bad-input][cli]") {
  json doc = Base();
  doc["simulation"]["fidelity"] = "ultra";
  TempFile f(doc.dump(2));
  const CliResult r = RunMoesim("explain " + Quote(f.path()));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(f.path() + ": $.simulation.fidelity"));
}

TEST_CASE("cli: unknown subcommand exits 2", "[bad-input][cli]") {
  const CliResult r = RunMoesim("bogus-subcommand");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
}

TEST_CASE("cli: run without a scenario exits 2", "[bad-input][cli]") {
  const CliResult r = RunMoesim("run");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
}

TEST_CASE("cli: run --help exits 0", "[cli]") {
  const CliResult r = RunMoesim("run --help");
  CHECK(r.exit_code == 0);
}

// --- Absurd magnitudes and duplicate keys (once parser problems, now fixed) ----------------------

// A huge HBM size is not range-checked: usable bytes / block bytes overflows int64 in
// KvFootprint::BlocksInBudget and the plan is reported as not fitting in HBM.
TEST_CASE("absurd HBM size is rejected at its own path", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpu"]["hbm_gb"] = 1e18;
  ExpectError(doc, "$.hardware.gpu.hbm_gb", "got 1e+18", "expected a number");
}

// duration_s has no upper bound: 1e300 s is accepted and `moesim run` never ends.
TEST_CASE("absurd simulated duration is rejected", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["duration_s"] = 1e300;
  ExpectError(doc, "$.simulation.duration_s", "got 1e+300", "expected a number");
}

TEST_CASE("cli: run with an absurd duration exits 2 instead of hanging", "[bad-input][cli]") {
  json doc = Base();
  doc["simulation"]["duration_s"] = 1e300;
  TempFile f(doc.dump(2));
  const CliResult r = RunMoesim("run --quiet " + Quote(f.path()), /*timeout_s=*/5);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);  // 124: killed after 5 s
  CHECK_THAT(r.err, Contains(f.path() + ": $.simulation.duration_s"));
}

// rate_per_s has no upper bound: 1e300 requests/s is accepted and `moesim run` never ends while
// its memory grows without bound.
TEST_CASE("absurd Poisson rate is rejected", "[bad-input]") {
  json doc = Base();
  doc["workload"].erase("concurrency");
  doc["workload"]["arrival"] = "poisson";
  doc["workload"]["rate_per_s"] = 1e300;
  ExpectError(doc, "$.workload.rate_per_s", "got 1e+300", "expected a number");
}

// Layer counts are bounded (at most 10,000), so an absurd one fails at its own key, at once.
TEST_CASE("a billion layers fails fast", "[bad-input]") {
  json doc = Base();
  doc["model"]["layers"] = 1000000000;
  ExpectError(doc, "$.model.layers", "got 1000000000", "expected an integer");
}

// nlohmann::json keeps the last of two equal keys: the first value is dropped silently.
TEST_CASE("duplicate key in a scenario file", "[bad-input]") {
  std::string text = Base().dump(2);
  const std::string key = "\"tensor_parallel\": 1";
  const size_t at = text.find(key);
  REQUIRE(at != std::string::npos);
  text.replace(at, key.size(), "\"tensor_parallel\": 8, \"tensor_parallel\": 1");
  TempFile f(text);
  auto s = LoadScenario(f.path(), Presets());
  REQUIRE_FALSE(s.ok());
  const std::string msg(s.status().message());
  INFO("message: " << msg);
  CHECK_THAT(msg, StartsWith(f.path() + ": "));
  CHECK_THAT(msg, Contains("tensor_parallel"));
  CHECK_THAT(msg, Contains("duplicate"));
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

TEST_CASE("more pipeline stages than GPUs", "[bad-input]") {
  json doc = Base();
  doc["deployment"]["pipeline_parallel"] = 2;
  ExpectError(doc, "$.deployment.pipeline_parallel", "got 2",
              "expected at most 1 stages of 1 GPUs on the cluster's 1 GPUs");
}

TEST_CASE("unknown fabric preset", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["fabrics"] = {{"scaleup", "nvlink9"}};
  ExpectError(doc, "$.hardware.fabrics.scaleup", "got \"nvlink9\"",
              "expected a fabrics.json preset");
}

TEST_CASE("unknown fabric class", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["fabrics"] = {{"backplane", "nvlink4"}};
  ExpectError(doc, "$.hardware.fabrics.backplane", "", "unknown key; keys accepted here: ");
}

TEST_CASE("zero-bandwidth fabric override", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["fabrics"] = {{"scaleout", {{"preset", "ib-ndr-400"}, {"gb_per_s", 0}}}};
  ExpectError(doc, "$.hardware.fabrics.scaleout.gb_per_s", "got 0", "expected a number > 0");
}

TEST_CASE("NICs that do not divide the GPUs of a server", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["gpus_per_server"] = 8;
  doc["hardware"]["nics_per_server"] = 3;
  ExpectError(doc, "$.hardware.nics_per_server", "got 3",
              "expected a divisor of gpus_per_server (8)");
}

TEST_CASE("leaf oversubscription below 1", "[bad-input]") {
  json doc = Base();
  doc["hardware"]["leaf_oversubscription"] = 0.5;
  ExpectError(doc, "$.hardware.leaf_oversubscription", "got 0.5", "expected a number >= 1");
}

TEST_CASE("collectives other than analytic under step fidelity", "[bad-input]") {
  json doc = Base();
  doc["simulation"]["fidelity"] = "step";
  doc["simulation"]["collectives"] = "flows";
  ExpectError(doc, "$.simulation.collectives", "got \"flows\"",
              "expected \"analytic\" with fidelity");
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// Issue 17: `moesim presets` on a user's preset folder validates every GPU as `run` does
// (a missing key used to read freed memory under AddressSanitizer).
TEST_CASE("cli: presets on a folder with a GPU missing a key exits 2 naming it",
          "[bad-input][cli]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("moesim_presets_" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const char* f : {"models.json", "runtimes.json", "fabrics.json", "kv_connectors.json"}) {
    fs::copy_file(fs::path(MOESIM_SOURCE_DIR) / "models/presets" / f, dir / f,
                  fs::copy_options::overwrite_existing);
  }
  std::ifstream in(fs::path(MOESIM_SOURCE_DIR) / "models/presets/gpus.json");
  json gpus = json::parse(in);
  gpus["H200"].erase("hbm_gb");
  std::ofstream(dir / "gpus.json") << gpus.dump(2);
  const CliResult r = RunMoesim("--presets " + Quote(dir.string()) + " presets");
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("$.H200.hbm_gb: missing required key"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// Issue 17, output handling.
TEST_CASE("cli: an unknown command is named; --version answers", "[bad-input][cli]") {
  CliResult r = RunMoesim("frobnicate");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("unknown command \"frobnicate\""));
  r = RunMoesim("--version");
  CHECK(r.exit_code == 0);
}

TEST_CASE("cli: an unwritable output is refused before simulating, with the reason",
          "[bad-input][cli]") {
  const CliResult r = RunMoesim(
      "run --quiet --json /nonexistent-dir/report.json " +
      Quote(MOESIM_SOURCE_DIR "/scenarios/disaggregation/deepseek-v3-h200-1p1d-tp8.json"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("/nonexistent-dir/report.json: cannot write (No such file or "
                             "directory)"));
}

TEST_CASE("cli: --json - writes the report to standard output", "[cli]") {
  const std::string out = "/tmp/moesim_stdout_" + std::to_string(getpid()) + ".json";
  const std::string cmd = Quote(MOESIM_BINARY) + " run --json - " +
                          Quote(MOESIM_SOURCE_DIR "/scenarios/default.json") + " > " + Quote(out);
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out);
  const json report = json::parse(in);  // nothing but the JSON report on stdout
  CHECK(report.contains("throughput"));
  std::remove(out.c_str());
}

TEST_CASE("cli: --trace - writes the trace alone to standard output; two '-' are refused",
          "[cli][trace]") {
  const std::string out = "/tmp/moesim_stdout_trace_" + std::to_string(getpid()) + ".json";
  const std::string cmd = Quote(MOESIM_BINARY) + " run --trace - " +
                          Quote(MOESIM_SOURCE_DIR "/scenarios/default.json") + " > " + Quote(out);
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out);
  const json trace = json::parse(in);  // nothing but the trace on stdout
  CHECK(trace["traceEvents"].size() > 1000);
  std::remove(out.c_str());
  // Two outputs on standard output would interleave: refused before simulating.
  const CliResult r =
      RunMoesim("run --json - --trace - " + Quote(MOESIM_SOURCE_DIR "/scenarios/default.json"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("expected at most one"));
}

}  // namespace
}  // namespace moesim
