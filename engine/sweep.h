// `moesim sweep`: a plan search over a scenario's "sweep" section (plan/sweep_spec.h).
//
// Three phases, each deterministic, so that MPI ranks can each run a share of the middle one
// and rank 0 gathers a table byte-identical to a local run's:
//  1. PrepareSweep: every plan's document is built and parsed (an invalid plan is skipped with
//     its error), plans over the GPU budget are skipped, and every valid plan is screened
//     analytically (engine/plan_screen.h, no SimGrid). Plans within keep_within_pct of the
//     screened Pareto frontier (output tok/s per GPU against tok/s per user), and those within it
//     of the best screened plan of each SLO, are selected for simulation; the rest are screened
//     out with the shortfall that put them out.
//  2. SimulatePlan: one selected plan's simulation (one SimGrid engine: call it in a child
//     process, engine/subprocess.h), returning the metrics the table keeps as JSON text.
//  3. FinishSweep: the simulated metrics joined to the plans, SLOs checked on the simulated
//     percentiles, the simulated Pareto frontier, and the best plan per SLO by the objective.
// An RLVR sweep (a scenario with an "rlvr" section) skips the screen and simulates every valid
// plan; its frontier is the plans no other beats on both step time and $ per step, its SLOs
// bound the mean step (engine/sweep_rlvr.h).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/plan_screen.h"
#include "engine/scenario.h"
#include "engine/sweep_rlvr.h"
#include "plan/sweep_spec.h"

namespace moesim {

// kScreened: selected by the screen but not simulated (--screen-only).
enum class SweepPlanState { kSkipped, kScreenedOut, kScreened, kSimulated, kFailed };
const char* SweepPlanStateName(SweepPlanState s);

// What a simulation of one plan measured (the report's headline numbers). An RLVR plan has its
// GPUs, limit and `rlvr`; the serving fields stay 0 / empty.
struct SweepMetrics {
  int gpus = 0;
  double output_tok_per_s = 0;
  double output_tok_per_s_per_gpu = 0;
  double tok_per_s_per_user = 0;  // mean over finished requests of 1 / TPOT
  std::optional<double> ttft_p50_s, ttft_p90_s, tpot_p50_s, tpot_p90_s;  // none finished: empty
  std::optional<double> usd_per_million_output_tokens;
  std::string limit;  // limiting subsystem (and pool, for plans of several pools)
  int64_t finished_requests = 0;
  std::optional<RlvrSweepMetrics> rlvr;  // RLVR sweeps
};

struct SweepPlan {
  size_t index = 0;
  std::vector<nlohmann::json> values;  // one per SweepColumns() entry
  SweepPlanState state = SweepPlanState::kSkipped;
  std::string reason;  // skipped / failed: why; screened out: by how much
  std::optional<Scenario> scenario;
  // What is simulated when a representative set of instances stands for all of them
  // (engine/representative_instances.h): that scenario and its instance count (0: all).
  std::optional<Scenario> representative;
  int simulated_instances = 0;
  std::optional<PlanScreen> screen;
  double screen_shortfall = 0;  // below the screened frontier (0.1 = 10 %)
  bool selected = false;        // to be simulated
  std::optional<SweepMetrics> metrics;
  std::vector<bool> meets_slo;  // per spec.slos (simulated plans)
  bool on_frontier = false;     // on the simulated frontier
};

struct SweepBest {
  std::string slo;  // SLO name ("" for the objective without SLO)
  std::optional<size_t> plan;
  std::string reason;  // one line
};

struct Sweep {
  std::string file;
  SweepSpec spec;
  std::vector<std::string> columns;
  std::vector<SweepPlan> plans;
  std::vector<size_t> frontier;  // simulated frontier, by tok/s per GPU ascending
  std::vector<SweepBest> best;
  std::map<std::string, int> skip_reasons;  // reason -> plans

  // Indices (into plans) of the plans phase 2 simulates, in plan order.
  std::vector<size_t> Selected() const;
  // Screen only: the selected plans stay unsimulated ("screened", reason says so).
  void SelectNone();
};

// Phase 1 for the scenario document `doc` (read from `file`) with a "sweep" section.
absl::StatusOr<Sweep> PrepareSweep(const nlohmann::json& doc, const std::string& file,
                                   const PresetLibrary& presets);
// Phase 2: simulates plans[i] and returns its SweepMetrics as JSON text (for a child process).
absl::StatusOr<std::string> SimulatePlan(const Sweep& sweep, size_t i);
// Phase 3: `results[k]` is what SimulatePlan returned for Selected()[k] (an error marks the plan
// failed with its message; the sweep goes on).
void FinishSweep(Sweep& sweep, const std::vector<absl::StatusOr<std::string>>& results);

// The metrics of a report (engine/simulation.h) that a sweep keeps.
SweepMetrics SweepMetricsFromReport(const nlohmann::json& report);
nlohmann::json SweepMetricsToJson(const SweepMetrics& m);
SweepMetrics SweepMetricsFromJson(const nlohmann::json& j);

// The whole table as JSON: plans (axes, state, screen, metrics, SLOs), frontier, best per SLO,
// skip reasons.
nlohmann::json SweepToJson(const Sweep& sweep);

}  // namespace moesim
