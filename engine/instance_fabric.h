// The collective patterns of one instance on the cluster graph: one all-reduce ring per
// pipeline stage (when tensor_parallel > 1) and one send pattern per stage boundary (each TP
// rank sends its share of the activations to the same rank of the next stage).
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/scenario.h"
#include "topology/cluster_graph.h"
#include "topology/collective_pattern.h"
#include "topology/deepep_normal_pattern.h"

namespace moesim {

struct InstanceFabric {
  std::vector<std::unique_ptr<CollectivePattern>> stage_rings;  // per stage; null when TP = 1
  std::vector<std::unique_ptr<CollectivePattern>> stage_sends;  // per boundary s -> s+1
  std::unique_ptr<CollectivePattern> all_to_all;  // DP-attention EP group: dispatch / combine
  // The same group's DeepEP normal-kernel traffic ("moe_dispatch": "normal"; else null).
  std::unique_ptr<DeepEpNormalPattern> deepep_normal;

  const CollectivePattern* Ring(int stage) const { return stage_rings[stage].get(); }
  const CollectivePattern* Send(int boundary) const { return stage_sends[boundary].get(); }
  // GPU pairs that exchange traffic (for the SimGrid routes).
  std::vector<std::pair<int, int>> Pairs() const;
  std::vector<int> LinkDirections() const;
};

absl::StatusOr<InstanceFabric> BuildInstanceFabric(const Scenario& s, const ClusterGraph& graph,
                                                   int instance);

}  // namespace moesim
