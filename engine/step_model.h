// Analytic cost of one step of one instance (no SimGrid): the kernel list of the step, each
// kernel timed by the cost model, launched through the LaunchPipeline, and every all-reduce
// timed by its CollectivePattern's link-load bound on an idle fabric (the same wire traffic the
// SimGrid paths send, so the two agree on an isolated instance).
//
// Used by the "step" fidelity and by the analytic bounds.
#pragma once

#include <cstdint>

#include "engine/launch_pipeline.h"
#include "engine/scenario.h"
#include "topology/collective_pattern.h"

namespace moesim {

struct StepEstimate {
  double seconds = 0;
  TimeBreakdown breakdown;
};

// Runs one step starting at time 0 with `running_seqs` sequences in the batch; `tp_ring` is the
// instance's all-reduce pattern (nullptr when tensor_parallel is 1).
StepEstimate EstimateStep(const Scenario& s, const CollectivePattern* tp_ring,
                          const StepBatch& batch, int64_t running_seqs);

// A steady decode batch of `seqs` sequences that each hold `context_tokens` tokens.
StepBatch DecodeBatch(const Scenario& s, int64_t seqs, double context_tokens);

}  // namespace moesim
