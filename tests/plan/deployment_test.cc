// plan/deployment: pools placed on whole servers in declaration order, each checked against
// the model and cluster and memory-planned with its own GPU and stack.
#include "plan/deployment.h"

#include <string>

#include <catch2/catch.hpp>

#include "../support/cluster_fixtures.h"
#include "../support/preset_fixtures.h"

namespace moesim {
namespace {

PoolSpec Pool(const std::string& name, PoolRole role, const std::string& gpu, int tp, int ep,
              bool dp_attention, int instances) {
  PoolSpec p;
  p.name = name;
  p.role = role;
  p.gpu = testing::GpuPreset(gpu);
  p.runtime = testing::RuntimePreset("sglang");
  p.deployment.plan.tp = tp;
  p.deployment.plan.ep = ep;
  p.deployment.plan.dp_attention = dp_attention;
  p.deployment.instances = instances;
  p.where = {"plan.json", "$.deployment.pools[0]"};
  return p;
}

TEST_CASE("deploy: two pools of different GPUs take disjoint servers and plan their own memory",
          "[plan]") {
  const ModelSpec model = testing::ModelPreset("DeepSeek-V3");
  const ClusterSpec cluster = testing::IdealCluster(8, 4, 1);  // 4 servers of 8 GPUs
  Plan plan;
  plan.pools.push_back(Pool("prefill", PoolRole::kPrefill, "H200", 8, 8, false, 1));
  plan.pools.push_back(Pool("decode", PoolRole::kDecode, "B200", 1, 16, true, 1));
  plan.pools[1].where = {"plan.json", "$.deployment.pools[1]"};
  auto d = Deploy(plan, {model, cluster, 9000});
  INFO(d.status().message());
  REQUIRE(d.ok());
  REQUIRE(d->pools.size() == 2);
  const PoolDeployment& prefill = d->pools[0];
  const PoolDeployment& decode = d->pools[1];
  CHECK(prefill.servers == std::vector<int>{0});
  CHECK(decode.servers == std::vector<int>{1, 2});
  CHECK(prefill.InstanceGpus(0).front() == 0);
  CHECK(decode.InstanceGpus(0).front() == 8);
  CHECK(decode.InstanceGpus(0).back() == 23);
  // Each pool's memory comes from its own GPU and plan: a B200 (more HBM than an H200) holds
  // 1/16 of the experts plus its own attention weights, an H200 1/8 of everything, so the
  // decode pool's GPUs have far more room for KV.
  CHECK(prefill.spec.gpu.name == "H200");
  CHECK(decode.spec.gpu.name == "B200");
  CHECK(prefill.spec.gpu.HbmBytes() < decode.spec.gpu.HbmBytes());
  CHECK(decode.memory.weight_bytes < prefill.memory.weight_bytes);
  CHECK(decode.memory.kv_budget_bytes > prefill.memory.kv_budget_bytes);
  CHECK(prefill.memory.kv_blocks > 0);
  CHECK(decode.memory.kv_blocks > 0);
  // The stack's rules filled each pool's open runtime values for its own plan shape.
  REQUIRE(prefill.spec.runtime.max_num_seqs.has_value());
  REQUIRE(decode.spec.runtime.max_num_seqs.has_value());
}

TEST_CASE("deploy: spread placement takes server k of every rack first", "[plan]") {
  const ClusterSpec cluster = testing::IdealCluster(8, 2, 2);  // servers 0,1 | 2,3
  CHECK(OrderServers({0, 1, 2, 3}, DeploymentSpec::Placement::kSpread, cluster) ==
        std::vector<int>{0, 2, 1, 3});
  CHECK(OrderServers({0, 1, 2, 3}, DeploymentSpec::Placement::kPacked, cluster) ==
        std::vector<int>{0, 1, 2, 3});
  CHECK(OrderServers({1, 3}, DeploymentSpec::Placement::kSpread, cluster) ==
        std::vector<int>{1, 3});
}

TEST_CASE("deploy: pools that outgrow the cluster name the pool and its instances", "[plan]") {
  const ModelSpec model = testing::ModelPreset("Qwen3-30B-A3B");
  const ClusterSpec cluster = testing::IdealCluster(8, 2, 1);  // 2 servers
  Plan plan;
  plan.pools.push_back(Pool("a", PoolRole::kServe, "H200", 8, 8, false, 1));
  plan.pools.push_back(Pool("b", PoolRole::kServe, "H200", 4, 4, false, 3));
  plan.pools[1].where = {"plan.json", "$.deployment.pools[1]"};
  auto d = Deploy(plan, {model, cluster, 2000});
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(std::string(d.status().message()),
             Catch::Contains("plan.json: $.deployment.pools[1].instances: got 3, expected at "
                             "most 2 instances of 4 GPUs on the 1 servers the pools before it "
                             "left free"));
}

TEST_CASE("deploy: a pool's shape errors name its own keys", "[plan]") {
  const ModelSpec model = testing::ModelPreset("Qwen3-30B-A3B");  // 32 heads
  const ClusterSpec cluster = testing::IdealCluster(8, 2, 1);
  Plan plan;
  plan.pools.push_back(Pool("a", PoolRole::kServe, "H200", 8, 8, false, 1));
  plan.pools.push_back(Pool("b", PoolRole::kServe, "H200", 3, 1, false, 1));
  plan.pools[1].where = {"plan.json", "$.deployment.pools[1]"};
  auto d = Deploy(plan, {model, cluster, 2000});
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(std::string(d.status().message()),
             Catch::Contains("$.deployment.pools[1].tensor_parallel: got 3"));
}

TEST_CASE("deploy: a pool whose weights do not fit names the pool", "[plan]") {
  const ModelSpec model = testing::ModelPreset("DeepSeek-V3");
  const ClusterSpec cluster = testing::IdealCluster(8, 2, 1);
  Plan plan;
  plan.pools.push_back(Pool("small", PoolRole::kServe, "H200", 4, 4, false, 1));
  auto d = Deploy(plan, {model, cluster, 2000});
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(std::string(d.status().message()), Catch::Contains("$.deployment.pools[0]: "));
}

}  // namespace
}  // namespace moesim
