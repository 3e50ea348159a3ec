// engine/instance_fabric: the collective patterns an instance needs, for TP, PP and DP attention.
#include "engine/instance_fabric.h"

#include <catch2/catch.hpp>

#include "test_scenarios.h"

namespace moesim {
namespace {

TEST_CASE("TP x PP instance: one ring per stage, one send per stage boundary", "[fabric]") {
  nlohmann::json doc = testing::SmallScenarioJson(2, 16, "layer");
  doc["hardware"] = {{"gpu", "H200"}, {"gpus_per_server", 2}, {"servers_per_rack", 2}};
  doc["deployment"] = {{"tensor_parallel", 2}, {"expert_parallel", 2}, {"pipeline_parallel", 2}};
  const testing::TestPool t = testing::MustDeploy(doc);
  auto g = ClusterGraph::Build(t.scenario->cluster());
  REQUIRE(g.ok());
  auto f = BuildInstanceFabric(t.pool(), *g, 0);
  REQUIRE(f.ok());
  REQUIRE(f->stage_rings.size() == 2);
  CHECK(f->Ring(0) != nullptr);
  CHECK(f->Ring(0)->gpus() == std::vector<int>{0, 1});
  CHECK(f->Ring(1)->gpus() == std::vector<int>{2, 3});
  REQUIRE(f->stage_sends.size() == 1);
  CHECK(f->all_to_all == nullptr);
  // The stage send crosses the NICs (the stages sit in different servers).
  const CollectiveCost c = f->Send(0)->Estimate(1e6, 0);
  CHECK(c.tier_bytes[static_cast<int>(LinkTier::kScaleOut)] > 0);
  CHECK_FALSE(f->Pairs().empty());
  CHECK_FALSE(f->LinkDirections().empty());
}

TEST_CASE("DP-attention instance: an all-to-all over the EP group, no rings", "[fabric]") {
  nlohmann::json doc = testing::SmallScenarioJson(1, 16, "layer");
  doc["deployment"] = {{"attention", "data_parallel"}, {"expert_parallel", 8}};
  const testing::TestPool t = testing::MustDeploy(doc);
  auto g = ClusterGraph::Build(t.scenario->cluster());
  REQUIRE(g.ok());
  auto f = BuildInstanceFabric(t.pool(), *g, 0);
  REQUIRE(f.ok());
  REQUIRE(f->all_to_all != nullptr);
  CHECK(f->all_to_all->gpus().size() == 8);
  CHECK(f->Ring(0) == nullptr);
  CHECK(f->Pairs().size() == 8 * 7);
}

}  // namespace
}  // namespace moesim
