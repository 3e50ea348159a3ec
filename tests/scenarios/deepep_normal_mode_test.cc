// DP-attention EP groups with DeepEP's normal kernels ("moe_dispatch": "normal",
// topology/deepep_normal_pattern.h): node-deduplicated RDMA plus NVLink forwarding against the
// low-latency kernels, fidelities, and the plans the option rejects.
//
// Model: Qwen3-235B-A22B fp8 (128 experts, top-8, no expert groups) on 8×H200 servers over IB
// NDR, eager execution (the normal kernels cannot be graph-captured: the host polls each dispatch's
// received-token count) with a 5 us launch gap (the vllm preset's 33 us Python gap makes these
// eager steps CPU-bound: the CPU's launches, not the all-to-alls, would set the step), 20-token
// prompts and endless outputs so that the window holds steady decode steps.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"

namespace moesim {
namespace {

nlohmann::json QwenGroup(int ep, const std::string& dispatch, const std::string& collectives) {
  nlohmann::json doc = {
      {"name", "qwen-ep" + std::to_string(ep) + "-" + dispatch},
      {"hardware", {{"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", ep / 8}}},
      {"model", {{"preset", "Qwen3-235B-A22B"}, {"weight_dtype", "fp8"}}},
      {"runtime", {{"preset", "vllm"}, {"execution_mode", "eager"}, {"eager_launch_gap_us", 5}}},
      {"deployment",
       {{"attention", "data_parallel"}, {"expert_parallel", ep}, {"moe_dispatch", dispatch}}},
      {"routing", {{"kind", "zipf"}, {"exponent", 0.6}}},
      {"workload",
       {{"arrival", "closed_loop"},
        {"concurrency", ep * 64},
        {"input_tokens", {{"kind", "fixed"}, {"tokens", 20}}},
        {"output_tokens", {{"kind", "fixed"}, {"tokens", 100000}}}}},
      {"simulation", {{"duration_s", 3}, {"warmup_s", 1.5}, {"seed", 1}}}};
  if (!collectives.empty()) doc["simulation"]["collectives"] = collectives;
  return doc;
}

// Bytes a tier carried per token processed in the measurement window.
double TierBytesPerToken(const nlohmann::json& r, const char* tier) {
  const double tokens =
      r["throughput"]["total_tok_per_s"].get<double>() * r["window_s"].get<double>();
  return r["fabric"]["tiers"][tier]["bytes"].get<double>() / tokens;
}
double StepMs(const nlohmann::json& r) { return r["batch"]["mean_step_ms"].get<double>(); }

// EP16 over two servers: a low-latency token sends each of its ~4 copies on the other server
// over RDMA; a normal-kernel token crosses once to the same local rank there, which forwards it
// over NVLink. RDMA bytes per token fall ~4× (measured 9.2 → 2.3 MB per token over all layers,
// dispatch and combine, scale-out tier), NVLink bytes rise, and the step is shorter because the
// NICs were the bottleneck (measured 33.8 → 27.5 ms).

TEST_CASE("DeepEP normal kernels cut RDMA bytes and add NVLink forwarding",
          "[scenarios][dp-attention][deepep]") {
  const auto r =
      testing::RunReports({QwenGroup(16, "low_latency", ""), QwenGroup(16, "normal", "")});
  const auto &ll = r[0], &normal = r[1];
  const double ll_rdma = TierBytesPerToken(ll, "scale_out");
  const double n_rdma = TierBytesPerToken(normal, "scale_out");
  INFO("RDMA bytes per token: low-latency " << ll_rdma << ", normal " << n_rdma << "; steps "
                                            << StepMs(ll) << " vs " << StepMs(normal) << " ms");
  CHECK(n_rdma < 0.4 * ll_rdma);
  CHECK(TierBytesPerToken(normal, "scale_up") > 1.5 * TierBytesPerToken(ll, "scale_up"));

  CHECK(StepMs(normal) < StepMs(ll));
  CHECK(normal["plan"]["moe_dispatch"] == "normal");
  CHECK(ll["plan"]["moe_dispatch"] == "low_latency");
}

// The analytic cost (slower phase's link-load bound plus the longest route latency) against
// SimGrid running both phases' transfers concurrently: on an isolated group the phases use
// disjoint links, so a parallel task agrees to 1e-3. Per-pair flows each end after their own
// route's latency, so when the NVLink phase is the slower one the collective does not wait for
// the RDMA routes' extra ~4 us: over 94 layers × 2 all-to-alls flows save ~0.38 ms a step,
// ~1.4% of it (measured 27.13 vs 27.51 ms per step).
TEST_CASE("DeepEP normal kernels: analytic, ptask and flows agree on an isolated group",
          "[scenarios][dp-attention][deepep][fidelity]") {
  const auto r =
      testing::RunReports({QwenGroup(16, "normal", "analytic"), QwenGroup(16, "normal", "ptask"),
                           QwenGroup(16, "normal", "flows")});
  CHECK(StepMs(r[1]) == Approx(StepMs(r[0])).epsilon(1e-3));
  CHECK(StepMs(r[2]) == Approx(StepMs(r[0])).epsilon(0.025));
  CHECK(StepMs(r[2]) <= StepMs(r[0]));
}

TEST_CASE("DeepEP normal kernels need DP attention and eager execution", "[bad-input]") {
  nlohmann::json doc = QwenGroup(16, "normal", "");
  doc["runtime"]["execution_mode"] = "cuda_graph";
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("bad.json: $.deployment.moe_dispatch: got \"normal\", expected "
                             "\"low_latency\" with runtime.execution_mode \"cuda_graph\""));
  doc = QwenGroup(16, "normal", "");
  doc["deployment"] = {{"tensor_parallel", 8}, {"expert_parallel", 8}, {"moe_dispatch", "normal"}};
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.deployment.moe_dispatch: got \"normal\", expected \"low_latency\" "
                             "unless \"attention\": \"data_parallel\""));
  doc = QwenGroup(16, "normal", "");
  doc["deployment"]["moe_dispatch"] = "fast";
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()), Catch::Contains("$.deployment.moe_dispatch"));
}

}  // namespace
}  // namespace moesim
