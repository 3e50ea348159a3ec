// Unit tests of the attention/FFN hop planner (engine/afd_hop_plan.h): expert GPUs a token
// reaches, bytes conserved per hop (what the attention side sends is what the expert side
// receives, per destination in proportion to its routed load), combine = dispatch at bf16.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "afd_test_support.h"
#include "engine/afd_hop_plan.h"
#include "engine/instance_fabric.h"
#include "test_scenarios.h"
#include "topology/cluster_graph.h"

namespace moesim {
namespace {

TEST_CASE("afd hops: expert GPUs a token reaches", "[afd]") {
  // One GPU holds every expert: one copy.
  CHECK(ExpectedGpusPerToken(256, 8, 1) == 1.0);
  // Each GPU holds one expert: top-k distinct experts reach k GPUs.
  CHECK(ExpectedGpusPerToken(16, 4, 16) == Approx(4.0));
  // DeepSeek-V3 on 16 GPUs: 16 (1 - C(240,8)/C(256,8)) = 16 (1 - 0.592295) = 6.5233.
  CHECK(ExpectedGpusPerToken(256, 8, 16) == Approx(6.5233).epsilon(1e-4));
  // Never more GPUs than copies, never more than GPUs.
  for (int n : {2, 4, 8, 32, 64}) {
    const double d = ExpectedGpusPerToken(256, 8, n);
    CHECK(d <= 8.0);
    CHECK(d <= n);
    CHECK(d >= 1.0);
  }
}

TEST_CASE("afd hops: bytes conserved per hop and per destination", "[afd]") {
  const testing::TestPool t = testing::MustDeploy(testing::AfdDoc(16, 8));
  const PoolContext& pool = t.pool();
  const testing::TestHops hops = testing::MustPlanHops(pool);
  const AfdHopPlanner& planner = *hops.planner;
  const double d = planner.GpusPerToken();
  CHECK(d == Approx(ExpectedGpusPerToken(256, 8, 8)));
  // fp8 with 1x128 fp32 scales out, bf16 back.
  CHECK(planner.DispatchBytesPerToken() == Approx(7168 + 7168 / 128.0 * 4));
  CHECK(planner.CombineBytesPerToken() == Approx(7168 * 2));

  std::vector<double> tokens(16);
  for (int a = 0; a < 16; ++a) tokens[a] = 10.0 * (a + 1);
  double sent = 0;
  for (double x : tokens) sent += x;
  // Skewed loads: GPU 3 takes nothing, GPU 0 four times the others.
  std::vector<MoeLayerLoad> loads(8, MoeLayerLoad{100, 10});
  loads[0].assignments = 400;
  loads[3].assignments = 0;
  const std::vector<double> received = planner.Received(tokens, loads);
  double got = 0;
  for (double r : received) got += r;
  CHECK(got == Approx(sent * d));  // every copy arrives somewhere
  CHECK(received[3] == 0.0);       // none where no routed expert takes tokens
  CHECK(received[0] == Approx(4 * received[1]));

  std::vector<Transfer> wire;
  const AfdHop dispatch = planner.Plan(true, tokens, loads, &wire);
  CHECK(dispatch.payload_bytes == Approx(sent * d * planner.DispatchBytesPerToken()));
  // On the wire (one fabric, one protocol efficiency): each destination's share of the bytes
  // is its share of the copies; each source's, its share of the tokens.
  const std::vector<int> gpus = pool.InstanceGpus(0);
  std::vector<double> into(8, 0.0), from(16, 0.0);
  double total = 0;
  for (const Transfer& w : wire) {
    const int src = static_cast<int>(std::find(gpus.begin(), gpus.end(), w.src_gpu) - gpus.begin());
    const int dst = static_cast<int>(std::find(gpus.begin(), gpus.end(), w.dst_gpu) - gpus.begin());
    REQUIRE(src < 16);
    REQUIRE(dst >= 16);
    into[dst - 16] += w.bytes;
    from[src] += w.bytes;
    total += w.bytes;
  }
  for (int e = 0; e < 8; ++e) CHECK(into[e] / total == Approx(received[e] / got).margin(1e-12));
  for (int a = 0; a < 16; ++a) CHECK(from[a] / total == Approx(tokens[a] / sent));

  std::vector<Transfer> back;
  const AfdHop combine = planner.Plan(false, tokens, loads, &back);
  CHECK(combine.payload_bytes == Approx(sent * d * planner.CombineBytesPerToken()));
  for (const Transfer& w : back) {
    CHECK(std::find(gpus.begin() + 16, gpus.end(), w.src_gpu) != gpus.end());
    CHECK(std::find(gpus.begin(), gpus.begin() + 16, w.dst_gpu) != gpus.begin() + 16);
  }
  CHECK(combine.cost.seconds > dispatch.cost.seconds);
}

TEST_CASE("afd hops: shared experts on the expert side add one round-robin copy per token",
          "[afd]") {
  nlohmann::json doc = testing::AfdDoc(16, 8);
  doc["deployment"]["attention_ffn"]["shared_experts"] = "experts";
  const testing::TestPool t = testing::MustDeploy(doc);
  const testing::TestHops hops = testing::MustPlanHops(t.pool());
  const AfdHopPlanner& planner = *hops.planner;
  const std::vector<double> tokens(16, 100.0);
  const std::vector<MoeLayerLoad> loads(8, MoeLayerLoad{100, 10});
  double got = 0;
  for (double r : planner.Received(tokens, loads)) got += r;
  CHECK(got == Approx(1600 * (planner.GpusPerToken() + 1)));
}

}  // namespace
}  // namespace moesim
