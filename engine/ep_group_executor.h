// One lockstep step of a DP-attention expert-parallel group (SGLang / DeepSeek style): every GPU
// runs attention for its own batch, then each MoE layer dispatches tokens to the experts' GPUs
// with an all-to-all, runs its grouped GEMMs sized for the layer's busiest GPU, and combines the
// results with a second all-to-all. The all-to-alls synchronise the ranks: each starts when the
// last rank reaches it, so a rank with more attention work, or the busiest expert GPU, holds the
// whole group back. Ranks without work still take part (with empty batches).
//
// Kernels are timed analytically per rank (LaunchPipeline); the all-to-alls run through the
// CollectiveRunner (analytic / ptask / flows) with the largest rank's message, or analytically at
// "step" fidelity. Must be called from a SimGrid actor.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/collective_runner.h"
#include "engine/launch_pipeline.h"
#include "engine/scenario.h"
#include "models/kernel_cost.h"
#include "topology/collective_pattern.h"

namespace moesim {

class EpGroupExecutor {
 public:
  EpGroupExecutor(const Scenario& scenario, const SimgridPlatform& platform,
                  const CollectivePattern& all_to_all);

  // batches[r], running[r]: rank r's batch and running sequences; loads: per MoE layer, the
  // busiest GPU's load. Returns the per-GPU breakdown averaged over the ranks (tier bytes are
  // the group's totals).
  TimeBreakdown Run(const std::vector<StepBatch>& batches, const std::vector<int64_t>& running,
                    const std::vector<MoeLayerLoad>& loads);

 private:
  const Scenario& scenario_;
  const CollectivePattern& all_to_all_;
  CollectiveRunner runner_;
  KernelCostModel cost_;
  std::vector<LaunchPipeline> pipes_;  // one per rank
};

}  // namespace moesim
