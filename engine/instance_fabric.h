// The collective patterns of one instance on the cluster graph: the all-reduces of each pipeline
// stage (when tensor_parallel > 1) and one send pattern per stage boundary (each TP rank sends
// its share of the activations to the same rank of the next stage).
//
// A stage's all-reduce is picked per message as the serving stacks pick it (vLLM
// custom_all_reduce.py / csrc/custom_all_reduce.cuh, SGLang's copy, TensorRT-LLM AUTO;
// docs/research/serving_stacks.md §1.6): inside one NVLink domain with 2-8 GPUs and messages
// under 8 MiB the custom kernels, one-shot below 512 KiB (up to 4 GPUs) or 256 KiB (up to 8),
// two-shot above; otherwise NCCL's (hierarchical) ring.
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
  // Custom all-reduce patterns per stage; null when TP = 1 or the stage leaves its NVLink domain
  // or has more than 8 GPUs.
  std::vector<std::unique_ptr<CollectivePattern>> stage_one_shot;
  std::vector<std::unique_ptr<CollectivePattern>> stage_two_shot;
  std::vector<std::unique_ptr<CollectivePattern>> stage_sends;  // per boundary s -> s+1
  // A separate draft model on GPUs of its own: its all-reduces are stage pp's above; the
  // verified tokens go from the last stage to it and its drafts back to the first (else empty).
  std::vector<std::unique_ptr<CollectivePattern>> draft_sends;  // {to the draft, back}
  const CollectivePattern* DraftIn() const { return draft_sends[0].get(); }
  const CollectivePattern* DraftOut() const { return draft_sends[1].get(); }
  std::unique_ptr<CollectivePattern> all_to_all;  // DP-attention EP group: dispatch / combine
  // The same group's DeepEP normal-kernel traffic ("moe_dispatch": "normal"; else null).
  std::unique_ptr<DeepEpNormalPattern> deepep_normal;
  // The same group's gather and reduce-scatter ("moe_dispatch": "gather"; else null): NCCL's
  // ring all-gather over the group's GPUs; and its all-reduces (for steps with prompt tokens),
  // the stage entries at index group_all_reduce_stage (-1: none).
  std::unique_ptr<CollectivePattern> dp_gather;
  int group_all_reduce_stage = -1;
  // Attention/FFN disaggregation: every attention GPU sends to every expert GPU (dispatch) and
  // back (combine); shares 1 / expert GPUs per pair (a whole rank message over N), weighted per
  // step by tokens and loads (AfdHopPlanner).
  std::unique_ptr<CollectivePattern> afd_dispatch;
  std::unique_ptr<CollectivePattern> afd_combine;

  const CollectivePattern* Ring(int stage) const { return stage_rings[stage].get(); }
  // The all-reduce the stack runs for a `message_bytes` message on stage `stage` (null: TP 1).
  const CollectivePattern* AllReduceFor(int stage, double message_bytes) const;
  const CollectivePattern* Send(int boundary) const { return stage_sends[boundary].get(); }
  // GPU pairs that exchange traffic (for the SimGrid routes).
  std::vector<std::pair<int, int>> Pairs() const;
  std::vector<int> LinkDirections() const;
};

absl::StatusOr<InstanceFabric> BuildInstanceFabric(const PoolContext& s, const ClusterGraph& graph,
                                                   int instance);

}  // namespace moesim
