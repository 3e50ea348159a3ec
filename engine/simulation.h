// One simulation of one scenario: builds the cluster, the SimGrid platform and the actors
// (workload source -> router -> instance schedulers -> step executors), runs SimGrid's engine
// for the scenario's duration and returns the report.
//
// SimGrid allows one engine per process and a second one silently keeps the first one's clock
// (../shared/reference/simgrid-notes.md §6): RunSimulation() may be called once per process.
// Sweeps and `moesim validate` therefore run each scenario in its own process
// (engine/subprocess.h).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "engine/scenario.h"

namespace moesim {

absl::StatusOr<nlohmann::json> RunSimulation(const Scenario& scenario);

}  // namespace moesim
