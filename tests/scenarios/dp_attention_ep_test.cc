// engine/ep_group_executor: DP attention + expert parallelism. Every GPU of the EP group serves
// its own sequences; MoE layers dispatch and combine with all-to-alls over the routed links.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"

namespace moesim {
namespace {

nlohmann::json DpEp(int gpus_per_server, int servers, const std::string& fidelity) {
  nlohmann::json doc = testing::SmallScenarioJson(1, 256, fidelity);
  doc["hardware"] = {
      {"gpu", "H200"}, {"gpus_per_server", gpus_per_server}, {"servers_per_rack", servers}};
  doc["deployment"] = {{"attention", "data_parallel"}, {"expert_parallel", 8}};
  return doc;
}

TEST_CASE("DP-attention EP8 in one server: all-to-alls on NVLink; fidelities agree",
          "[scenarios][dp-attention]") {
  nlohmann::json step = DpEp(8, 1, "step");
  nlohmann::json flows = DpEp(8, 1, "layer");
  flows["simulation"]["collectives"] = "flows";
  nlohmann::json ptask = DpEp(8, 1, "layer");
  ptask["simulation"]["collectives"] = "ptask";
  const auto r = testing::RunReports({step, flows, ptask});
  CHECK(r[0]["plan"]["gpus"] == 8);
  CHECK(r[0]["plan"]["attention"] == "data_parallel");
  CHECK(r[0]["time_share"]["communication"].get<double>() > 0.02);
  CHECK(r[0]["fabric"]["tiers"]["scale_up"]["bytes"].get<double>() > 0);
  CHECK(r[0]["fabric"]["tiers"]["scale_out"]["bytes"].get<double>() == 0);
  for (int i : {1, 2}) {
    CHECK(r[i]["batch"]["steps"] == r[0]["batch"]["steps"]);
    CHECK(r[i]["throughput"]["output_tok_per_s"].get<double>() ==
          Approx(r[0]["throughput"]["output_tok_per_s"].get<double>()).epsilon(1e-3));
  }
}

TEST_CASE("DP-attention EP8 across two servers: dispatch/combine cross the NICs and cost more",
          "[scenarios][dp-attention]") {
  const auto r = testing::RunReports({DpEp(8, 1, "layer"), DpEp(4, 2, "layer")});
  const auto &inside = r[0], &across = r[1];
  CHECK(across["fabric"]["tiers"]["scale_out"]["bytes"].get<double>() > 0);
  CHECK(across["time_share"]["communication"].get<double>() >
        1.3 * inside["time_share"]["communication"].get<double>());
  CHECK(across["throughput"]["output_tok_per_s"].get<double>() <
        inside["throughput"]["output_tok_per_s"].get<double>());
}

TEST_CASE("DP attention needs tensor_parallel 1 and an expert-parallel group", "[bad-input]") {
  nlohmann::json doc = DpEp(8, 1, "layer");
  doc["deployment"]["tensor_parallel"] = 2;
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("bad.json: $.deployment.tensor_parallel: got 2, expected 1 with"));
  doc = DpEp(8, 1, "layer");
  doc["deployment"]["expert_parallel"] = 1;
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.deployment.expert_parallel: got 1, expected an integer >= 2"));
}

}  // namespace
}  // namespace moesim
