// Unit tests of engine/step_model.h's expected per-GPU MoE loads of a DP-attention EP group.
#include "engine/step_model.h"

#include <catch2/catch.hpp>

#include "../support/preset_fixtures.h"
#include "models/routing.h"

namespace moesim {
namespace {

ModelSpec DeepSeekLike() { return testing::ModelPreset("DeepSeek-V3"); }

// Every MoE layer: its busiest GPU carries ExpectedBusiestGpuPairs, it is rank l mod ep, the
// others share the rest evenly, and the layer's pairs add up to tokens · top_k (conserved;
// margin 1e-6 pairs).
TEST_CASE("ExpectedGpuLoads: a rotating busiest GPU, pairs conserved", "[step_model]") {
  const ModelSpec m = DeepSeekLike();
  ParallelPlan plan;
  plan.ep = 8;
  plan.dp_attention = true;
  const double tokens = 24;
  const auto loads = ExpectedGpuLoads(m, plan, tokens);
  REQUIRE(loads.size() == size_t(m.MoeLayerCount()));
  const double busiest = ExpectedBusiestGpuPairs(m.moe, 8, tokens);
  for (size_t layer = 0; layer < loads.size(); ++layer) {
    REQUIRE(loads[layer].size() == 8u);
    double sum = 0;
    for (size_t g = 0; g < 8; ++g) {
      sum += loads[layer][g].assignments;
      if (g == layer % 8) {
        CHECK(loads[layer][g].assignments == Approx(busiest));
      } else {
        CHECK(loads[layer][g].assignments < busiest);
      }
      CHECK(loads[layer][g].active_experts <= 32.0);
      CHECK(loads[layer][g].active_experts <= loads[layer][g].assignments + 1e-9);
    }
    CHECK(sum == Approx(tokens * 8).margin(1e-6));
  }
}

// The memo answers what ExpectedGpuLoads computes, asked twice (the second from its cache), and
// one GPU (ep 1) holds a slice of every expert: all pairs, and the seed-003 distinct count.
TEST_CASE("ExpectedLoadMemo equals ExpectedGpuLoads; ep 1 takes every pair", "[step_model]") {
  const ModelSpec m = DeepSeekLike();
  ParallelPlan plan;
  plan.ep = 8;
  plan.dp_attention = true;
  const ExpectedLoadMemo memo(m, plan);
  for (int pass = 0; pass < 2; ++pass) {
    const auto a = memo.PerGpu(40), b = ExpectedGpuLoads(m, plan, 40);
    REQUIRE(a.size() == b.size());
    for (size_t l = 0; l < a.size(); ++l) {
      for (size_t g = 0; g < a[l].size(); ++g) {
        CHECK(a[l][g].assignments == b[l][g].assignments);
        CHECK(a[l][g].active_experts == b[l][g].active_experts);
      }
    }
  }
  plan.ep = 1;
  const auto one = ExpectedGpuLoads(m, plan, 10);
  REQUIRE(!one.empty());
  CHECK(one[0][0].assignments == Approx(80.0));
  CHECK(one[0][0].active_experts == Approx(ExpectedDistinctExperts(256, 8, 10)));
}

}  // namespace
}  // namespace moesim
