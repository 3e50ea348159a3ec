// The report of an RLVR run (engine/rlvr_controller.h): per step its timeline and tokens, the
// step time and its split (rollout makespan, the time its slowest 10 % of samples took,
// training, weight sync, the colocated switch, GPUs idle while waiting), GPU-hours and $ per
// step, steps per day and per quarter, $ per million rollout tokens, the weight-sync bytes
// against the weights times the receivers, and the limit of each phase. It also checks that
// every sample was generated to its length or carried (none lost or counted twice) and that each
// GPU group's busy and idle time add up to the run's wall time.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "engine/rlvr_controller.h"
#include "engine/scenario.h"

namespace moesim {

// Three months of steps (seed 004: "4.3K steps of 0.5 hours in 3 months" = 90 days).
inline constexpr double kRlvrQuarterDays = 90;

absl::StatusOr<nlohmann::json> BuildRlvrReport(const Scenario& s, const RlvrSetup& setup,
                                               const RlvrTimeline& timeline);

}  // namespace moesim
