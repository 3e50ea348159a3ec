// What an RLVR sweep (plan/sweep_spec.h) keeps of each plan's RLVR report (engine/rlvr_report.h)
// and how it ranks plans: the mean step time and its split, the $ and GPU-hours of a step, steps
// per day, rollout $ per million tokens, and the limit of the step. The serving sweep's ranking
// (tok/s per GPU against tok/s per user) lives in engine/sweep.cc; this is its RLVR counterpart.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "plan/sweep_spec.h"

namespace moesim {

struct RlvrSweepMetrics {
  double step_time_s = 0;  // mean over the run's finished steps
  double rollout_s = 0;    // the split of a mean step (engine/rlvr_report.h, "split_s")
  double rollout_slowest_10pct_s = 0;
  double training_s = 0;
  double weight_sync_s = 0;
  double switch_s = 0;  // colocated: offload / reload between rollout and training
  double usd_per_step = 0;
  double gpu_hours_per_step = 0;
  double steps_per_day = 0;
  double response_tokens_per_step = 0;
  std::optional<double> rollout_usd_per_million_tokens;
};

// From an RLVR report's "rlvr" object.
RlvrSweepMetrics RlvrSweepMetricsFromReport(const nlohmann::json& rlvr);
nlohmann::json RlvrSweepMetricsToJson(const RlvrSweepMetrics& m);
RlvrSweepMetrics RlvrSweepMetricsFromJson(const nlohmann::json& j);

// The step's limit: "rollout: decode throughput of the rollout plan".
std::string RlvrStepLimit(const nlohmann::json& rlvr);

// Larger is better: minus the step time or minus the $ per step.
double RlvrObjectiveScore(SweepObjective objective, const RlvrSweepMetrics& m);
// Whether every bound of `slo` holds (step_time_s, usd_per_step).
bool RlvrMeets(const SweepSlo& slo, const RlvrSweepMetrics& m);
// The largest ratio of a metric to its bound (1 or less: met).
double RlvrSloRatio(const SweepSlo& slo, const RlvrSweepMetrics& m);
// "step 1914 s (SLO 1800), $306 per step (SLO 500)".
std::string DescribeRlvrSlo(const SweepSlo& slo, const RlvrSweepMetrics& m);
// "step 1914 s (rollout 1813 s, training 90.6 s, sync 1.39 s), $306 per step, 45.1 steps/day".
std::string DescribeRlvrStep(const RlvrSweepMetrics& m);

}  // namespace moesim
