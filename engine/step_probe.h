// Runs instance 0's steady decode step on SimGrid in a fresh engine (the SimGrid side of the
// runner's Estimate/Run agreement tests and of benchmarks). Like every SimGrid run it must be
// the only engine of its process (call it through RunInSubprocesses).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "engine/scenario.h"
#include "engine/step_runner.h"

namespace moesim {

// The scenario's instance 0 runs the decode step of `seqs` sequences holding `context_tokens`
// tokens each twice on the SimGrid fabric (the second time in the steady state an overlapping
// host reaches); returns the second step's timing.
absl::StatusOr<StepTiming> ProbeDecodeStep(const Scenario& s, int64_t seqs, double context_tokens);

}  // namespace moesim
