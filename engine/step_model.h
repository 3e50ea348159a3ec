// Analytic cost of one step of one instance (no SimGrid): the kernel list of the step, each
// kernel timed by the cost model, launched through the LaunchPipeline, and every collective
// timed by the closed form of the SimGrid flows it stands for on an idle scale-up fabric:
//
//   all-reduce (ring, one shot per GPU) = allreduce_latency + scale-up route latency
//                                         + 2(tp−1)/tp × message / port bandwidth
//
// Used by the "step" fidelity and by the analytic bounds; tests check it against the SimGrid
// paths (engine/step_executor.h).
#pragma once

#include <cstdint>

#include "engine/launch_pipeline.h"
#include "engine/scenario.h"

namespace moesim {

// Bytes each GPU sends (and receives) in a one-shot ring all-reduce of `message_bytes`.
double RingAllReduceBytesPerGpu(double message_bytes, int tp);
// Analytic duration of that all-reduce on an idle scale-up fabric.
double AllReduceSeconds(const Scenario& s, double message_bytes);

struct StepEstimate {
  double seconds = 0;
  TimeBreakdown breakdown;
};

// Runs one step starting at time 0 with `running_seqs` sequences in the batch.
StepEstimate EstimateStep(const Scenario& s, const StepBatch& batch, int64_t running_seqs);

// A steady decode batch of `seqs` sequences that each hold `context_tokens` tokens.
StepBatch DecodeBatch(const Scenario& s, int64_t seqs, double context_tokens);

}  // namespace moesim
