// The hop planner of a deployed attention/FFN pool's instance 0, with the cluster graph and the
// instance fabric it refers to (kept alive together), for tests of engine/afd_hop_plan.h.
#pragma once

#include <memory>

#include <catch2/catch.hpp>

#include "engine/afd_hop_plan.h"
#include "engine/instance_fabric.h"
#include "test_scenarios.h"
#include "topology/cluster_graph.h"

namespace moesim::testing {

// DeepSeek-V3 on 8-GPU H200 servers, SGLang, M attention and N expert GPUs.
inline nlohmann::json AfdDoc(int attention, int experts) {
  nlohmann::json doc = testing::SmallScenarioJson(1, 64, "layer");
  doc["model"] = {{"preset", "DeepSeek-V3"}, {"kv_dtype", "fp8"}};
  doc["hardware"] = {{"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", 4}};
  doc["deployment"] = {
      {"attention", "data_parallel"},
      {"attention_ffn", {{"attention_gpus", attention}, {"expert_gpus", experts}}}};
  doc["runtime"] = {{"preset", "sglang"}, {"memory_fraction", 0.85}};
  return doc;
}

struct TestHops {
  std::unique_ptr<ClusterGraph> graph;
  std::unique_ptr<InstanceFabric> fabric;
  std::unique_ptr<AfdHopPlanner> planner;
};

inline TestHops MustPlanHops(const PoolContext& pool) {
  TestHops t;
  auto graph = ClusterGraph::Build(pool.cluster());
  REQUIRE(graph.ok());
  t.graph = std::make_unique<ClusterGraph>(std::move(*graph));
  auto fabric = BuildInstanceFabric(pool, *t.graph, 0);
  REQUIRE(fabric.ok());
  t.fabric = std::make_unique<InstanceFabric>(std::move(*fabric));
  t.planner = std::make_unique<AfdHopPlanner>(pool, *t.fabric);
  return t;
}

}  // namespace moesim::testing
