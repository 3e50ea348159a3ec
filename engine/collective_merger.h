// Merges one step's collectives, per (group, link tier), into one activity each, for a sink that
// asks for it (a trace below `kernel` fidelity: a TP step has two all-reduces per layer,
// and a slice for each made the trace file, not the simulation, the cost of the run). A merged
// activity spans the first collective's start to the last one's end, carries their bytes in
// all, how many they were and the seconds they ran (busy_s <= end_s - start_s: the link tier's
// idle gaps between them are inside the span). Kernels and transfers pass through unchanged.
#pragma once

#include <vector>

#include "engine/step_activity.h"

namespace moesim {

class CollectiveMerger : public StepActivitySink {
 public:
  // Passes merged (and other) activities to `out`, which outlives the merger.
  explicit CollectiveMerger(StepActivitySink* out) : out_(out) {}
  void OnActivity(const StepActivity& a) override;
  // Hands the merged collectives to `out`, in the order their first collective ended, and
  // starts over. Call at the end of each step.
  void Flush();

 private:
  StepActivitySink* out_;
  std::vector<StepActivity> merged_;  // one per (first_gpu, tier) seen this step
};

}  // namespace moesim
