#include "engine/ep_group_executor.h"

#include <algorithm>

#include <simgrid/s4u.hpp>

#include "engine/step_model.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

EpGroupExecutor::EpGroupExecutor(const Scenario& scenario, const SimgridPlatform& platform,
                                 const CollectivePattern& all_to_all)
    : scenario_(scenario),
      all_to_all_(all_to_all),
      runner_(platform, scenario.simulation.collectives),
      cost_(scenario.hardware.gpu, scenario.runtime),
      pipes_(scenario.deployment.plan.ep, LaunchPipeline(scenario.runtime)) {}

TimeBreakdown EpGroupExecutor::Run(const std::vector<StepBatch>& batches,
                                   const std::vector<int64_t>& running,
                                   const std::vector<MoeLayerLoad>& loads) {
  const size_t ranks = pipes_.size();
  const bool analytic = scenario_.simulation.fidelity == Fidelity::kStep;
  // Every rank's kernel list, flattened; all have the same shape (same layers and op kinds).
  std::vector<std::vector<Op>> ops(ranks);
  for (size_t r = 0; r < ranks; ++r) {
    const StepProgram p = BuildStepProgram(scenario_.model, scenario_.runtime,
                                           scenario_.deployment.plan, batches[r], 0, &loads);
    for (int b : p.order) ops[r].insert(ops[r].end(), p.blocks[b].begin(), p.blocks[b].end());
  }
  const double now = sg4::Engine::get_clock();
  for (size_t r = 0; r < ranks; ++r) {
    pipes_[r].ResetBreakdown();
    pipes_[r].BeginStep(now, running[r]);
  }
  for (size_t i = 0; i < ops[0].size(); ++i) {
    if (ops[0][i].cls == OpClass::kAllToAll) {
      double start = 0;
      double message = 0;
      for (size_t r = 0; r < ranks; ++r) {
        start = std::max(start, pipes_[r].NextStart());
        message = std::max(message, ops[r][i].message_bytes);
      }
      const double floor_us = AllToAllFloorUs(scenario_, ops[0][i]);
      CollectiveCost c;
      double end = start;
      if (analytic) {
        c = all_to_all_.Estimate(message, floor_us);
        end = start + c.seconds;
      } else {
        sg4::this_actor::sleep_until(start);
        c = runner_.Run(all_to_all_, message, floor_us);
        end = sg4::Engine::get_clock();
      }
      for (size_t r = 0; r < ranks; ++r) {
        // The ranks that arrived early waited for the last one: that wait is part of the
        // collective's time on their GPU (the straggler effect shows as communication).
        pipes_[r].CollectiveDone(end, static_cast<int>(c.bottleneck_tier),
                                 r == 0 ? c.tier_bytes : std::array<double, 4>{});
      }
      continue;
    }
    for (size_t r = 0; r < ranks; ++r) pipes_[r].Kernel(cost_.Time(ops[r][i]), ops[r][i]);
  }
  double end = now;
  for (const LaunchPipeline& p : pipes_) end = std::max(end, p.gpu_free_s());
  sg4::this_actor::sleep_until(end);
  TimeBreakdown total;
  for (const LaunchPipeline& p : pipes_) total.Add(p.breakdown());
  const std::array<double, 4> tier_bytes = total.tier_bytes;
  total.Scale(1.0 / double(ranks));
  total.tier_bytes = tier_bytes;
  return total;
}

}  // namespace moesim
