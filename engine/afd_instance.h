// The "afd" instance kind (engine/instance.h): attention/FFN disaggregation in the style of
// MegaScale-Infer and Step-3 (StepMesh). The instance's first M GPUs are the attention side:
// each schedules its own sequences and holds their KV (DP attention, as an "ep_group" rank);
// the other N GPUs are the expert side: expert parallelism over the routed experts, no KV.
//
// A step's graph: the attention ranks' kernels cut at every MoE layer; there each micro-batch's
// tokens hop A -> E (engine/afd_hop_plan.h, transfers on the routed links), the expert GPUs run
// their fused-MoE block on what they received (sized by their sampled load: the busiest expert
// GPU is the straggler), the outputs hop E -> A, and the attention ranks go on. Shared experts
// run on the attention side while the dispatch is in flight, or on the expert side, as the
// scenario says. Ping-pong: the batch splits into m micro-batches whose items alternate per
// chunk, so the expert side works on one micro-batch while the attention side works on another
// and a third's hops are in flight; the critical path is the runner's walk of the graph. The
// expert side has no host work of its own (its kernels are launched as the data arrives).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/afd_hop_plan.h"
#include "engine/ep_group_instance.h"

namespace moesim {

class AfdInstance : public EpGroupInstance {
 public:
  static absl::StatusOr<std::unique_ptr<Instance>> Make(InstanceContext& context);

  const char* kind() const override { return "afd"; }
  // Its ranks are the attention GPUs only (the experts live on the expert side): it does not go
  // on without one, whatever the fault says; it stops.
  bool DropRanks(const std::vector<int>&) override { return false; }
  // batches[m][r]: micro-batch m of attention rank r; loads[m][layer][e]: its routed load on
  // expert GPU e.
  StepGraph BuildGraph(const std::vector<std::vector<StepBatch>>& batches,
                       const std::vector<int64_t>& running,
                       const std::vector<GroupLayerLoads>& loads, bool wire) const override;

  int attention_gpus() const { return ranks(); }
  int expert_gpus() const { return expert_gpus_; }
  const AfdHopPlanner& hops() const { return hops_; }

 protected:
  // The hops of the graph last built (the step that ran) and each side's GPU time.
  void RecordStep(const StepTiming& timing, StepRecord* rec) const override;

 private:
  AfdInstance(const InstanceContext& context, int micro);

  AfdHopPlanner hops_;
  int expert_gpus_ = 0;
  // Hops and bytes of the last graph BuildGraph made: RunStep builds a step's graph, runs it and
  // records it in turn on the instance's one lane, so RecordStep reads the graph that ran.
  mutable AfdStepStats last_graph_;
};

}  // namespace moesim
