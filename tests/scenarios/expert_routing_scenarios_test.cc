// Sampled routing in the simulation: Zipf-skewed routing makes the busiest GPU of every MoE layer
// a straggler; redundant experts (EPLB-style) rebalance it, and the run is measurably faster.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"

namespace moesim {
namespace {

// Large batches (2048 running sequences over 8 GPUs, short prompts so that decode dominates):
// ~128 tokens per expert, where the busiest GPU's extra tokens cost compute (the H200 fused-MoE
// class is compute-bound from ~64 rows per expert). (At small batches the extra replicas' weight
// reads cost more than the balance gains: redundancy pays only once the grouped GEMMs are
// token-bound.)
nlohmann::json Skewed(const nlohmann::json& placement) {
  nlohmann::json doc = testing::SmallScenarioJson(8, 2048, "layer");
  doc["runtime"]["max_num_seqs"] = 2048;
  doc["runtime"]["cuda_graph_max_batch"] = 2048;  // graph-launched: GPU time sets the step
  doc["workload"]["input_tokens"] = {{"kind", "uniform"}, {"min_tokens", 20}, {"max_tokens", 60}};
  doc["workload"]["output_tokens"] = {
      {"kind", "uniform"}, {"min_tokens", 300}, {"max_tokens", 600}};
  doc["routing"] = {{"kind", "zipf"}, {"exponent", 1.2}};
  doc["deployment"]["expert_placement"] = placement;
  doc["simulation"]["duration_s"] = 4;
  doc["simulation"]["warmup_s"] = 1;
  return doc;
}

std::vector<nlohmann::json> Run(const std::vector<nlohmann::json>& docs) {
  return testing::RunReports(docs);
}

TEST_CASE("skewed routing: redundant experts cut the imbalance and the step time",
          "[scenarios][routing]") {
  const auto r = Run({Skewed({{"kind", "contiguous"}}),
                      Skewed({{"kind", "redundant"}, {"redundant_slots", 32}}),
                      Skewed({{"kind", "redundant"}, {"redundant_slots", 32}})});
  const double contiguous = r[0]["moe"]["mean_gpu_imbalance"].get<double>();
  const double redundant = r[1]["moe"]["mean_gpu_imbalance"].get<double>();
  INFO("imbalance contiguous " << contiguous << ", redundant " << redundant);
  CHECK(contiguous > 1.5);
  CHECK(redundant < 1.2);
  CHECK(r[1]["throughput"]["output_tok_per_s"].get<double>() >
        1.01 * r[0]["throughput"]["output_tok_per_s"].get<double>());
  CHECK(r[1]["batch"]["mean_step_ms"].get<double>() < r[0]["batch"]["mean_step_ms"].get<double>());
  CHECK(r[1].dump() == r[2].dump());  // same seed, same sampled routing
}

TEST_CASE("uniform routing: the sampled imbalance is small and close to the expected load",
          "[scenarios][routing]") {
  nlohmann::json sampled = testing::SmallScenarioJson(8, 128, "layer");
  sampled["routing"] = {{"kind", "uniform"}};
  sampled["simulation"]["duration_s"] = 4;
  sampled["simulation"]["warmup_s"] = 1;
  nlohmann::json expected = sampled;
  expected.erase("routing");
  const auto r = Run({sampled, expected});
  CHECK(r[0]["moe"]["mean_gpu_imbalance"].get<double>() < 1.3);
  CHECK(r[1]["moe"]["routing"] == "expected_uniform");
  // Uniform samples put the busiest GPU a little above the mean: slightly slower, not more.
  const double ratio = r[0]["throughput"]["output_tok_per_s"].get<double>() /
                       r[1]["throughput"]["output_tok_per_s"].get<double>();
  CHECK(ratio < 1.02);
  CHECK(ratio > 0.85);
}

TEST_CASE("expert placement without a routing model is rejected", "[bad-input][routing]") {
  nlohmann::json doc = testing::SmallScenarioJson(8, 16, "layer");
  doc["deployment"]["expert_placement"] = {{"kind", "redundant"}, {"redundant_slots", 32}};
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("bad.json: $.deployment.expert_placement: needs a routing model"));
}

TEST_CASE("redundant slots that do not divide over the GPUs are rejected", "[bad-input][routing]") {
  nlohmann::json doc = Skewed({{"kind", "redundant"}, {"redundant_slots", 3}});
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  // 128 experts + 3 redundant slots = 131 slots do not divide over EP 8.
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("bad.json: $.deployment.expert_parallel: got 8"));
  CHECK_THAT(std::string(s.status().message()), Catch::Contains("131 slots"));
}

}  // namespace
}  // namespace moesim
