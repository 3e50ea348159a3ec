// Memoised costs of one step's program: identical layers share an op block (models/
// decode_step.h), so each block's kernels are timed once per step however many layers use it,
// and an all-reduce of a given message on a given pattern is estimated once per step.
//
//   StepCosts costs(program, cost_model);
//   for (int b : program.order) for (size_t i = 0; ...) costs.Kernel(b, i) ...
//
// Pure: no SimGrid. A StepCosts lives for one step (the program and the cost model outlive it).
#pragma once

#include <utility>
#include <vector>

#include "models/decode_step.h"
#include "models/kernel_cost.h"
#include "topology/collective_pattern.h"

namespace moesim {

class StepCosts {
 public:
  StepCosts(const StepProgram& program, const KernelCostModel& cost)
      : program_(program), cost_(cost), times_(program.blocks.size()) {}

  // Time of op `index` of block `block`.
  const KernelTime& Kernel(int block, size_t index) {
    std::vector<KernelTime>& t = times_[block];
    if (t.empty()) {
      for (const Op& op : program_.blocks[block]) t.push_back(cost_.Time(op));
    }
    return t[index];
  }

  // Analytic cost of `pattern` for `message_bytes` with a launch cost of `launch_us`.
  const CollectiveCost& Collective(const CollectivePattern& pattern, double message_bytes,
                                   double launch_us) {
    for (const auto& [key, cost] : collectives_) {
      if (key.first == &pattern && key.second == message_bytes) return cost;
    }
    collectives_.push_back({{&pattern, message_bytes}, pattern.Estimate(message_bytes, launch_us)});
    return collectives_.back().second;
  }

 private:
  const StepProgram& program_;
  const KernelCostModel& cost_;
  std::vector<std::vector<KernelTime>> times_;
  std::vector<std::pair<std::pair<const CollectivePattern*, double>, CollectiveCost>> collectives_;
};

}  // namespace moesim
