// A scenario file's "sweep" section: the axes a plan search varies, its constraints and
// objective (no SimGrid; `moesim sweep` runs it, engine/sweep.h).
//
//   "sweep": {
//     "axes": [
//       {"path": "$.deployment.tensor_parallel", "values": [4, 8]},
//       {"path": "$.workload.concurrency", "range": {"from": 16, "to": 256, "factor": 2}},
//       {"path": "$.workload.rate_per_s", "range": {"from": 1, "to": 4, "step": 0.5}},
//       {"paths": ["$.deployment.tensor_parallel", "$.deployment.expert_parallel"],
//        "values": [[8, 8], [16, 16]]}                      (coupled keys vary together)
//     ],
//     "min_gpus": 64, "max_gpus": 1024,                     (GPU budget; optional)
//     "slos": [{"name": "interactive", "ttft_p90_s": 2, "tpot_p90_ms": 30}],   (optional)
//     "objective": "output_tok_per_s_per_gpu",              (or "usd_per_million_output_tokens")
//     "screen": {"keep_within_pct": 15},                    (or "simulate": "all")
//     "instances": "representative"                         (or "all"; engine/representative_
//                                                            instances.h)
//   }
//
// A scenario with an "rlvr" section makes an RLVR sweep (plans of rollout, trainer and
// schedule): every valid plan is simulated (the analytic screen estimates serving plans, so
// "screen" and "instances" are refused), its objective is "rlvr_step_time_s" (the default: the
// shortest mean step) or "rlvr_usd_per_step" (the cheapest step), and its SLOs bound the mean
// step: {"name": "two_steps_an_hour", "step_time_s": 1800, "usd_per_step": 500}.
//
// Plans are the Cartesian product of the axes, in order (the last axis varies fastest). A path
// is any scenario key ("$.a.b", "$.deployment.pools[1].instances"); keys that do not exist are
// created, so an axis may set a key the base scenario leaves to its default.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

struct SweepAxis {
  std::vector<std::string> paths;                   // one, or several keys set together
  std::vector<std::vector<nlohmann::json>> values;  // per point: one value per path
};

// A service-level objective: a plan meets it when every bound given holds (p90 of the run).
struct SweepSlo {
  std::string name;
  std::optional<double> ttft_p90_s;
  std::optional<double> tpot_p90_ms;
  std::optional<double> min_tok_per_s_per_user;
  // RLVR sweeps: bounds on the mean step.
  std::optional<double> step_time_s;
  std::optional<double> usd_per_step;
};

enum class SweepObjective {
  kOutputTokPerSPerGpu,
  kUsdPerMillionOutputTokens,
  kRlvrStepTime,   // RLVR: the shortest mean step
  kRlvrUsdPerStep  // RLVR: the cheapest mean step
};
const char* SweepObjectiveName(SweepObjective o);

struct SweepSpec {
  bool rlvr = false;  // an RLVR sweep (the scenario has an "rlvr" section)
  std::vector<SweepAxis> axes;
  std::optional<int> min_gpus;  // plans on fewer GPUs are skipped
  std::optional<int> max_gpus;  // plans on more GPUs are skipped
  std::vector<SweepSlo> slos;
  SweepObjective objective = SweepObjective::kOutputTokPerSPerGpu;
  // Screening: every plan is first estimated analytically; plans whose estimate lies more than
  // keep_within_pct below the estimated Pareto frontier are not simulated. simulate_all: no
  // screening cut (every valid plan is simulated).
  double keep_within_pct = 15;
  bool simulate_all = false;
  // Simulate a representative set of instances where instances cannot interact (default), or
  // every instance.
  bool representative_instances = true;

  // Number of plans the axes expand to (product of the axis sizes).
  size_t PlanCount() const;
};

// Parses `value` (the "sweep" object) at `where`; `rlvr`: the scenario has an "rlvr" section.
absl::StatusOr<SweepSpec> ParseSweepSpec(const nlohmann::json& value, const JsonLocation& where,
                                         bool rlvr = false);

// One step of a key path: an object key, or an array index ("[2]").
struct SweepPathStep {
  std::string key;  // the key, or the index's digits
  bool index = false;
};
// Splits a "$.a.b[2].c" path into its steps; an error names `where` unless the path starts with
// "$." and every part is a key or a [index].
absl::StatusOr<std::vector<SweepPathStep>> ParseSweepPath(const std::string& path,
                                                          const JsonLocation& where);

}  // namespace moesim
