// Runs one step of one instance on SimGrid's clock, at the scenario's fidelity:
//
//  * step:   the whole step is EstimateStep()'s analytic timeline; one sleep.
//  * layer:  kernels are timed analytically through the LaunchPipeline; each all-reduce is
//            SimGrid flows (one ring transfer per GPU) on the platform's scale-up links, after
//            the all-reduce kernel's fixed latency. Contention with other traffic is simulated.
//  * kernel: as layer, and every kernel is also a SimGrid Exec on each GPU host of the
//            instance, started when the launch pipeline says it starts.
//
// On an isolated instance all three give the same step times (tests/engine check this); layer
// and kernel differ from step only where other traffic shares the links.
// Must be called from a SimGrid actor.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/launch_pipeline.h"
#include "engine/scenario.h"
#include "models/kernel_cost.h"

namespace simgrid::s4u {
class Host;
}  // namespace simgrid::s4u

namespace moesim {

class StepExecutor {
 public:
  StepExecutor(const Scenario& scenario, std::vector<simgrid::s4u::Host*> gpus);

  // Executes `batch` starting now; returns where this step's GPU time went.
  TimeBreakdown Run(const StepBatch& batch, int64_t running_seqs);

 private:
  void AllReduce(double message_bytes);
  void RunKernel(double start_s, double end_s);

  const Scenario& scenario_;
  std::vector<simgrid::s4u::Host*> gpus_;
  KernelCostModel cost_;
  LaunchPipeline pipe_;
};

}  // namespace moesim
