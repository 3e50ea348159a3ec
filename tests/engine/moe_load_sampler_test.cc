// engine/moe_load_sampler: routing samples -> busiest-GPU load per MoE layer.
#include "engine/moe_load_sampler.h"

#include <catch2/catch.hpp>

#include "test_scenarios.h"

namespace moesim {
namespace {

testing::TestPool WithRouting(const nlohmann::json& routing, const nlohmann::json& placement,
                              int ep) {
  nlohmann::json doc = testing::SmallScenarioJson(8, 16, "layer");
  doc["deployment"] = {{"tensor_parallel", 8}, {"expert_parallel", ep}};
  if (!placement.is_null()) doc["deployment"]["expert_placement"] = placement;
  doc["routing"] = routing;
  return testing::MustDeploy(doc);
}

TEST_CASE("one load per MoE layer; uniform routing is nearly balanced", "[routing]") {
  const testing::TestPool t = WithRouting({{"kind", "uniform"}}, nullptr, 8);
  auto sampler = MoeLoadSampler::Make(t.pool(), 1);
  REQUIRE(sampler.ok());
  std::vector<MoeLayerLoad> loads;
  auto imbalance = (*sampler)->Sample(4096, &loads);
  REQUIRE(imbalance.ok());
  CHECK(loads.size() == static_cast<size_t>(t.pool().model.MoeLayerCount()));
  // 4096 tokens x 8 experts over 8 GPUs: 4096 assignments per GPU on average. The per-expert
  // sampler fixes the total only on average (sd ~ 1% of a GPU's load), so the busiest GPU is at
  // least ~the mean.
  for (const MoeLayerLoad& l : loads) {
    CHECK(l.assignments >= 4096 * 0.98);
    CHECK(l.assignments < 4096 * 1.1);
    CHECK(l.active_experts == 16);  // all 16 local experts are hit at this batch
  }
  CHECK(*imbalance < 1.1);
}

TEST_CASE("skewed routing: the busiest GPU carries more; redundant placement evens it out",
          "[routing]") {
  const nlohmann::json zipf = {{"kind", "zipf"}, {"exponent", 1.2}};
  const testing::TestPool c = WithRouting(zipf, {{"kind", "contiguous"}}, 8);
  const testing::TestPool r =
      WithRouting(zipf, {{"kind", "redundant"}, {"redundant_slots", 32}}, 8);
  auto contiguous = MoeLoadSampler::Make(c.pool(), 1);
  auto redundant = MoeLoadSampler::Make(r.pool(), 1);
  REQUIRE(contiguous.ok());
  REQUIRE(redundant.ok());
  std::vector<MoeLayerLoad> a, b;
  auto ia = (*contiguous)->Sample(4096, &a);
  auto ib = (*redundant)->Sample(4096, &b);
  REQUIRE(ia.ok());
  REQUIRE(ib.ok());
  CHECK(*ia > 1.5);
  CHECK(*ib < 1.2);
  CHECK(a[0].assignments > b[0].assignments);
}

TEST_CASE("expert tensor-parallelism (ep 1): every GPU takes all tokens of the hit experts",
          "[routing]") {
  const testing::TestPool t = WithRouting({{"kind", "uniform"}}, nullptr, 1);
  auto sampler = MoeLoadSampler::Make(t.pool(), 1);
  REQUIRE(sampler.ok());
  std::vector<MoeLayerLoad> loads;
  auto imbalance = (*sampler)->Sample(4, &loads);
  REQUIRE(imbalance.ok());
  CHECK(*imbalance == 1.0);
  CHECK(loads[0].assignments == 4 * 8);
  CHECK(loads[0].active_experts <= 32);
}

}  // namespace
}  // namespace moesim
