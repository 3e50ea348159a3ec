// Where an RLVR trainer sits and what its phases cost (engine/rlvr_plan.h).
#include "engine/rlvr_plan.h"

#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "models/rlvr_trainer_cost.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

nlohmann::json Doc() {
  return nlohmann::json::parse(R"({
    "name": "plan",
    "hardware": {"gpu": "H200", "gpus_per_server": 8, "servers_per_rack": 4, "racks": 4},
    "model": {"preset": "DeepSeek-V3", "kv_dtype": "fp8"},
    "runtime": {"preset": "sglang"},
    "deployment": {"tensor_parallel": 8, "expert_parallel": 8, "instances": 2},
    "rlvr": {"prompts_per_step": 2, "samples_per_prompt": 2,
             "prompt_tokens": {"kind": "fixed", "tokens": 100},
             "output_tokens": {"kind": "fixed", "tokens": 100},
             "trainer": {"gpus": 96, "mfu": 0.5, "mfu_source": "test"}},
    "simulation": {"duration_s": 100}})");
}

TEST_CASE("rlvr plan: trainer GPUs after the rollout, one sync transfer per rollout GPU",
          "[rlvr]") {
  const Scenario s = testing::MustParse(Doc());
  auto d = DeployScenario(s);
  REQUIRE(d.ok());
  std::vector<int> rollout;
  for (const PoolDeployment& p : d->pools) {
    for (int i = 0; i < p.deployment().instances; ++i) {
      for (int g : p.InstanceGpus(i)) rollout.push_back(g);
    }
  }
  auto setup = PlanRlvr(s, *d, rollout);
  INFO(setup.status().message());
  REQUIRE(setup.ok());
  REQUIRE(setup->trainer_gpus.size() == 96);
  const std::set<int> used(rollout.begin(), rollout.end());
  for (int g : setup->trainer_gpus) CHECK(used.count(g) == 0);
  REQUIRE(setup->sync.size() == rollout.size());
  double bytes = 0;
  for (const Transfer& t : setup->sync) bytes += t.bytes;
  // Every instance receives the whole model in bf16.
  CHECK(bytes == Approx(2 * s.model.TotalParams() * 2));
  CHECK(setup->trainer_flops_per_s == Approx(96 * s.hardware.gpu.PeakFlops(DType::kBf16) * 0.5));
  CHECK(setup->optimizer_s == Approx(OptimizerStepSeconds(s.model, s.hardware.gpu, 96)));
  CHECK(setup->switch_to_train_s == 0);
  CHECK(RlvrSyncLink(s).link_efficiency > 0);
  CHECK(RlvrSyncLink(s).link_efficiency <= 1);
}

TEST_CASE("rlvr plan: colocated switches through the host links", "[rlvr]") {
  nlohmann::json doc = Doc();
  doc["rlvr"]["schedule"] = "colocated";
  doc["rlvr"]["trainer"].erase("gpus");
  doc["deployment"]["instances"] = 12;
  const Scenario s = testing::MustParse(doc);
  auto d = DeployScenario(s);
  REQUIRE(d.ok());
  std::vector<int> rollout;
  for (int i = 0; i < 12; ++i) {
    for (int g : d->pools[0].InstanceGpus(i)) rollout.push_back(g);
  }
  auto setup = PlanRlvr(s, *d, rollout);
  REQUIRE(setup.ok());
  CHECK(setup->trainer_gpus == rollout);
  CHECK(setup->sync.empty());
  // The training state crosses each GPU's host link in and out.
  const double state = TrainerStateBytesPerGpu(s.model, 96);
  CHECK(setup->switch_to_train_s > state / s.cluster().host.BytesPerSecond());
  CHECK(setup->switch_to_rollout_s > setup->switch_to_train_s);
}

}  // namespace
}  // namespace moesim
