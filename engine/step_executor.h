// Runs one step of one instance on SimGrid's clock, at the scenario's fidelity:
//
//  * step:   the whole step is EstimateStep()'s analytic timeline; one sleep.
//  * layer:  kernels are timed analytically through the LaunchPipeline; each all-reduce runs on
//            the platform through the CollectiveRunner (analytic, ptask or flows), so traffic of
//            other instances on shared links slows it down.
//  * kernel: as layer, and every kernel is also a SimGrid Exec on each GPU host of the
//            instance, started when the launch pipeline says it starts.
//
// On an isolated instance all three give the same step times (tests/engine check this).
// Must be called from a SimGrid actor.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/collective_runner.h"
#include "engine/instance_fabric.h"
#include "engine/launch_pipeline.h"
#include "engine/scenario.h"
#include "models/kernel_cost.h"
#include "topology/collective_pattern.h"

namespace simgrid::s4u {
class Host;
}  // namespace simgrid::s4u

namespace moesim {

class StepExecutor {
 public:
  // One pipeline stage of an instance: its GPUs and the instance's collective patterns.
  StepExecutor(const Scenario& scenario, const SimgridPlatform& platform, std::vector<int> gpus,
               const InstanceFabric& fabric, int stage);

  // Executes this stage's part of `batch` starting now; returns where its GPU time went.
  // `moe_loads`: sampled per-MoE-layer loads of the busiest GPU (nullptr: expected load).
  TimeBreakdown Run(const StepBatch& batch, int64_t running_seqs,
                    const std::vector<MoeLayerLoad>* moe_loads = nullptr);

 private:
  void RunKernel(double start_s, double end_s);

  const Scenario& scenario_;
  const SimgridPlatform& platform_;
  std::vector<int> gpus_;
  const InstanceFabric& fabric_;
  int stage_;
  CollectiveRunner collectives_;
  KernelCostModel cost_;
  LaunchPipeline pipe_;
};

}  // namespace moesim
