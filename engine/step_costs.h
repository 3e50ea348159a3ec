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

#include "engine/launch_pipeline.h"
#include "models/decode_step.h"
#include "models/kernel_cost.h"
#include "topology/collective_pattern.h"

namespace moesim {

// Analytic collective costs memoised by (pattern, message), forgotten when a fault changes a
// link's capacity (the graph's capacity_version()).
class CollectiveMemo {
 public:
  const CollectiveCost& Cost(const CollectivePattern& pattern, double message_bytes,
                             double launch_us) {
    if (pattern.capacity_version() != version_) {
      memo_.clear();
      version_ = pattern.capacity_version();
    }
    for (const auto& [key, cost] : memo_) {
      if (key.first == &pattern && key.second == message_bytes) return cost;
    }
    memo_.push_back({{&pattern, message_bytes}, pattern.Estimate(message_bytes, launch_us)});
    return memo_.back().second;
  }

 private:
  uint64_t version_ = 0;
  std::vector<std::pair<std::pair<const CollectivePattern*, double>, CollectiveCost>> memo_;
};

class StepCosts {
 public:
  StepCosts(const StepProgram& program, const KernelCostModel& cost)
      : program_(program),
        cost_(cost),
        times_(program.blocks.size()),
        runs_(program.blocks.size()) {}

  // Time of op `index` of block `block`.
  const KernelTime& Kernel(int block, size_t index) {
    std::vector<KernelTime>& t = times_[block];
    if (t.empty()) {
      for (const Op& op : program_.blocks[block]) t.push_back(cost_.Time(op));
    }
    return t[index];
  }

  // Totals of ops [begin, end) of block `block` (memoised: a block's runs recur in every layer
  // that uses it).
  const KernelRun& Run(int block, int begin, int end) {
    std::vector<std::pair<std::pair<int, int>, KernelRun>>& memo = runs_[block];
    for (const auto& [range, run] : memo) {
      if (range.first == begin && range.second == end) return run;
    }
    KernelRun run;
    for (int i = begin; i < end; ++i) run.Add(Kernel(block, i), program_.blocks[block][i]);
    memo.push_back({{begin, end}, run});
    return memo.back().second;
  }

  // Analytic cost of `pattern` for `message_bytes` with a launch cost of `launch_us`.
  const CollectiveCost& Collective(const CollectivePattern& pattern, double message_bytes,
                                   double launch_us) {
    return collectives_.Cost(pattern, message_bytes, launch_us);
  }

 private:
  const StepProgram& program_;
  const KernelCostModel& cost_;
  std::vector<std::vector<KernelTime>> times_;
  std::vector<std::vector<std::pair<std::pair<int, int>, KernelRun>>> runs_;  // per block
  CollectiveMemo collectives_;
};

}  // namespace moesim
