// One simulation of one scenario: builds the cluster, the SimGrid platform and the actors
// (workload source -> router -> instance schedulers -> step executors), runs SimGrid's engine
// for the scenario's duration and returns the report.
//
// SimGrid allows one engine per process and a second one silently keeps the first one's clock
// (../shared/reference/simgrid-notes.md §6): RunSimulation() may be called once per process.
// Sweeps and `moesim validate` therefore run each scenario in its own process
// (engine/subprocess.h).
#pragma once

#include <cstdint>
#include <functional>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "engine/scenario.h"

namespace moesim {

// Called as the simulation advances (from inside it, on SimGrid's clock): the simulated
// seconds so far, the scenario's duration (an RLVR run's cap) and the requests finished so far.
// The engine prints nothing; the command line turns this into a progress line.
using SimulationProgress =
    std::function<void(double simulated_s, double duration_s, int64_t finished)>;

class TraceRecorder;  // engine/trace_recorder.h

// What watches a run without changing it.
struct RunOptions {
  SimulationProgress progress;     // none: no progress reports
  TraceRecorder* trace = nullptr;  // none: no trace
};

absl::StatusOr<nlohmann::json> RunSimulation(const Scenario& scenario,
                                             const RunOptions& options = {});

}  // namespace moesim
