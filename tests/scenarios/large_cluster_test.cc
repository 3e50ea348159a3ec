// A scenario's cluster may be far larger than its deployment (validation accepts up to 1,000,000
// GPUs): only the deployment's GPUs and the links its traffic crosses become SimGrid, so a small
// deployment on a 100,000-GPU cluster runs as it does on a cluster of its own size, and a
// deployment too large for SimGrid's route table is refused by name before simulating.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/simulation.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

// 625 racks × 20 servers × 8 H200s.
nlohmann::json HundredThousandGpus() {
  return {{"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", 20}, {"racks", 625}};
}

TEST_CASE("large cluster: a TP8 instance on 100,000 GPUs reports as on one server",
          "[scenarios][large-cluster]") {
  nlohmann::json small = testing::SmallScenarioJson(8, 16, "layer");
  small["simulation"]["duration_s"] = 3;
  nlohmann::json large = small;
  large["hardware"] = HundredThousandGpus();
  const auto reports = testing::RunReports({small, large});
  REQUIRE(reports.size() == 2);
  CHECK(reports[0] == reports[1]);
}

TEST_CASE("large cluster: two TP16 instances report as on a cluster of their own size",
          "[scenarios][large-cluster]") {
  // Each instance spans two servers of one rack (through its leaf) and no link carries both
  // instances' traffic, so the deployment on 2 racks × 2 servers and on 625 racks × 20 servers
  // is the same simulation.
  nlohmann::json small = testing::SmallScenarioJson(8, 16, "layer");
  small["model"] = {{"preset", "Qwen3-235B-A22B"}, {"weight_dtype", "fp8"}};
  small["deployment"] = {{"tensor_parallel", 16}, {"expert_parallel", 16}, {"instances", 2}};
  small["hardware"] = {
      {"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", 2}, {"racks", 2}};
  small["simulation"]["duration_s"] = 3;
  nlohmann::json large = small;
  large["hardware"] = HundredThousandGpus();
  const auto reports = testing::RunReports({small, large});
  REQUIRE(reports.size() == 2);
  CHECK(reports[0] == reports[1]);
}

TEST_CASE("large cluster: a deployment beyond the platform's bound is refused by name",
          "[scenarios][large-cluster][bad-input]") {
  // 2,049 TP8 instances: 16,392 GPUs, over kMaxSimgridGpuHosts (16,384).
  nlohmann::json doc = testing::SmallScenarioJson(8, 16, "step");
  doc["hardware"] = HundredThousandGpus();
  doc["deployment"]["instances"] = 2049;
  auto run = RunSimulation(testing::MustParse(doc));
  REQUIRE_FALSE(run.ok());
  CHECK(run.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(run.status().message()),
             Contains("16392 of the cluster's 100000 GPUs") && Contains("at most 16384"));
}

}  // namespace
}  // namespace moesim
