// DP-attention EP groups without DeepEP ("moe_dispatch": "gather", plan/pool_spec.h): SGLang's
// dp_attention.py gathers every rank's hidden states before each MoE layer (a ring all-gather of
// the buffer padded to the largest rank's tokens in a decode step) and reduce-scatters the
// experts' outputs back; a step with prompt tokens all-reduces the summed buffer instead. With
// "moe_sharding": "tensor" the experts are split over the group instead of placed whole.
//
// Model: Qwen3-235B-A22B fp8 (94 MoE layers, hidden 4,096) as an EP16 group over two 8×H200
// servers on IB NDR, SGLang with CUDA graphs, 20-token prompts and endless outputs so that the
// window holds steady decode steps.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"

namespace moesim {
namespace {

nlohmann::json Group(const std::string& dispatch) {
  return {{"name", "qwen-ep16-" + dispatch},
          {"hardware", {{"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", 2}}},
          {"model", {{"preset", "Qwen3-235B-A22B"}, {"weight_dtype", "fp8"}}},
          {"runtime", {{"preset", "sglang"}, {"memory_fraction", 0.85}}},
          {"deployment",
           {{"attention", "data_parallel"}, {"expert_parallel", 16}, {"moe_dispatch", dispatch}}},
          {"workload",
           {{"arrival", "closed_loop"},
            {"concurrency", 16 * 32},
            {"input_tokens", {{"kind", "fixed"}, {"tokens", 20}}},
            {"output_tokens", {{"kind", "fixed"}, {"tokens", 100000}}}}},
          {"simulation", {{"duration_s", 3}, {"warmup_s", 1.5}, {"seed", 1}}}};
}

double TierBytesPerToken(const nlohmann::json& r, const char* tier) {
  const double tokens =
      r["throughput"]["total_tok_per_s"].get<double>() * r["window_s"].get<double>();
  return r["fabric"]["tiers"][tier]["bytes"].get<double>() / tokens;
}

// The ring all-gather across two servers is hierarchical: each local rank's ring between the
// servers carries 1/16 of the buffer each way over two scale-out links (NIC to leaf, leaf to
// NIC), so an all-gather of S puts 2S on the scale-out tier and the reduce-scatter back another
// 2S. In steady decode every rank holds 32 tokens (no padding): S = 16 x 32 tokens x 4,096 x 2
// bytes, i.e. 4 x 8,192 B = 32 KiB per token per MoE layer, 3.08 MB per token over 94 layers.
TEST_CASE("the gather moves the padded hidden states over the scale-out tier",
          "[scenarios][dp-attention][sglang-gather]") {
  const auto r = testing::RunReports({Group("gather"), Group("low_latency")});
  const nlohmann::json &gather = r[0], &ll = r[1];
  CHECK(gather["plan"]["moe_dispatch"] == "gather");
  const double per_token = TierBytesPerToken(gather, "scale_out");
  INFO("scale-out bytes per token: gather " << per_token << ", DeepEP low-latency "
                                            << TierBytesPerToken(ll, "scale_out"));
  CHECK(per_token == Approx(94 * 4 * 4096 * 2.0).epsilon(0.05));
  // DeepEP's low-latency kernels send each of a token's ~4 remote copies (of top-8) over RDMA
  // (fp8 out, bf16 back); the hierarchical gather sends each token's hidden state across the
  // servers once: fewer RDMA bytes (measured 3.0 against 9.3 MB per token).
  CHECK(per_token < 0.5 * TierBytesPerToken(ll, "scale_out"));
}

TEST_CASE("the gather is deterministic and conserves requests", "[scenarios][sglang-gather]") {
  const auto r = testing::RunReports({Group("gather"), Group("gather")});
  CHECK(r[0].dump() == r[1].dump());
  CHECK(r[0]["throughput"]["output_tok_per_s"].get<double>() > 0);
}

// DeepSeek-R1 on one 8xH200 server, DP attention over 8 ranks of 1 sequence each, the gather:
// experts placed whole (EP8) against split tensor-parallel 8 ways (SGLang's default ep_size 1).
nlohmann::json OneServer(const std::string& sharding) {
  return {{"name", "dsr1-dpa8-" + sharding},
          {"hardware", {{"gpu", "H200"}, {"gpus_per_server", 8}}},
          {"model", {{"preset", "DeepSeek-R1"}, {"weight_dtype", "fp8"}, {"kv_dtype", "fp8"}}},
          {"runtime", {{"preset", "sglang"}}},
          {"deployment",
           {{"attention", "data_parallel"},
            {"expert_parallel", 8},
            {"moe_dispatch", "gather"},
            {"moe_sharding", sharding}}},
          {"workload",
           {{"arrival", "closed_loop"},
            {"concurrency", 8},
            {"input_tokens", {{"kind", "fixed"}, {"tokens", 20}}},
            {"output_tokens", {{"kind", "fixed"}, {"tokens", 100000}}}}},
          {"simulation", {{"duration_s", 3}, {"warmup_s", 1.5}, {"seed", 1}}}};
}

// With 8 tokens a step, 64 (token, expert) pairs reach ~57 of the 256 experts: placed whole, the
// busiest GPU reads ~10 of its 32 experts (sampled) in full; split 8 ways, every GPU reads 1/8 of
// all ~57, about 7 experts' worth, and no GPU is busier than another. The tensor split is faster
// at this batch.
TEST_CASE("tensor-sharded experts under the gather: every GPU runs every expert's slice",
          "[scenarios][dp-attention][sglang-gather]") {
  const auto r = testing::RunReports({OneServer("tensor"), OneServer("expert")});
  const nlohmann::json &tensor = r[0], &expert = r[1];
  CHECK(tensor["plan"]["moe_sharding"] == "tensor");
  CHECK_FALSE(expert["plan"].contains("moe_sharding"));
  const double t = tensor["batch"]["mean_step_ms"].get<double>();
  const double e = expert["batch"]["mean_step_ms"].get<double>();
  INFO("step: tensor-sharded " << t << " ms, expert-parallel " << e << " ms");
  CHECK(t < e);
  CHECK(t > 0.8 * e);  // the same weights in all, the attention and dense parts unchanged
  const auto again = testing::RunReports({OneServer("tensor")});
  CHECK(again[0].dump() == tensor.dump());
}

TEST_CASE("the gather needs DP attention and no two-batch overlap, tensor sharding the gather",
          "[bad-input]") {
  nlohmann::json doc = Group("gather");
  doc["deployment"]["two_batch_overlap"] = true;
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("bad.json: $.deployment.moe_dispatch: got \"gather\", expected "
                             "\"low_latency\" or \"normal\" with two_batch_overlap"));
  doc = Group("low_latency");
  doc["deployment"]["moe_sharding"] = "tensor";
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.deployment.moe_sharding: got \"tensor\", expected \"expert\" "
                             "unless \"moe_dispatch\": \"gather\""));
  doc = Group("gather");
  doc["deployment"]["moe_sharding"] = "tensor";
  doc["deployment"]["expert_placement"] = {{"kind", "contiguous"}};
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.deployment.moe_sharding: got \"tensor\", expected \"expert\" "
                             "with an expert_placement"));
  doc = Group("gather");
  doc["deployment"] = {{"tensor_parallel", 8}, {"expert_parallel", 8}, {"moe_dispatch", "gather"}};
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.deployment.moe_dispatch: got \"gather\", expected \"low_latency\" "
                             "unless \"attention\": \"data_parallel\""));
}

}  // namespace
}  // namespace moesim
