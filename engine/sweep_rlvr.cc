#include "engine/sweep_rlvr.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace moesim {

RlvrSweepMetrics RlvrSweepMetricsFromReport(const nlohmann::json& r) {
  RlvrSweepMetrics m;
  m.step_time_s = r["step_time_s"].get<double>();
  const nlohmann::json& split = r["split_s"];
  m.rollout_s = split["rollout"].get<double>();
  m.rollout_slowest_10pct_s = split["rollout_slowest_10pct"].get<double>();
  m.training_s = split["training"].get<double>();
  m.weight_sync_s = split["weight_sync"].get<double>();
  m.switch_s = split["switch"].get<double>();
  m.usd_per_step = r["usd_per_step"].get<double>();
  m.gpu_hours_per_step = r["gpu_hours_per_step"].get<double>();
  m.steps_per_day = r["steps_per_day"].get<double>();
  m.response_tokens_per_step = r["response_tokens_per_step"].get<double>();
  if (r.contains("rollout_usd_per_million_tokens") &&
      r["rollout_usd_per_million_tokens"].is_number()) {
    m.rollout_usd_per_million_tokens = r["rollout_usd_per_million_tokens"].get<double>();
  }
  return m;
}

nlohmann::json RlvrSweepMetricsToJson(const RlvrSweepMetrics& m) {
  return {{"step_time_s", m.step_time_s},
          {"rollout_s", m.rollout_s},
          {"rollout_slowest_10pct_s", m.rollout_slowest_10pct_s},
          {"training_s", m.training_s},
          {"weight_sync_s", m.weight_sync_s},
          {"switch_s", m.switch_s},
          {"usd_per_step", m.usd_per_step},
          {"gpu_hours_per_step", m.gpu_hours_per_step},
          {"steps_per_day", m.steps_per_day},
          {"response_tokens_per_step", m.response_tokens_per_step},
          {"rollout_usd_per_million_tokens", m.rollout_usd_per_million_tokens
                                                 ? nlohmann::json(*m.rollout_usd_per_million_tokens)
                                                 : nlohmann::json(nullptr)}};
}

RlvrSweepMetrics RlvrSweepMetricsFromJson(const nlohmann::json& j) {
  // JSON writes a non-finite number as null: read it back as NaN rather than throw.
  const auto num = [&](const char* key) {
    return j[key].is_number() ? j[key].get<double>() : std::numeric_limits<double>::quiet_NaN();
  };
  RlvrSweepMetrics m;
  m.step_time_s = num("step_time_s");
  m.rollout_s = num("rollout_s");
  m.rollout_slowest_10pct_s = num("rollout_slowest_10pct_s");
  m.training_s = num("training_s");
  m.weight_sync_s = num("weight_sync_s");
  m.switch_s = num("switch_s");
  m.usd_per_step = num("usd_per_step");
  m.gpu_hours_per_step = num("gpu_hours_per_step");
  m.steps_per_day = num("steps_per_day");
  m.response_tokens_per_step = num("response_tokens_per_step");
  if (j["rollout_usd_per_million_tokens"].is_number()) {
    m.rollout_usd_per_million_tokens = j["rollout_usd_per_million_tokens"].get<double>();
  }
  return m;
}

std::string RlvrStepLimit(const nlohmann::json& r) {
  const nlohmann::json& limits = r["limits"];
  const std::string phase = limits["step"].get<std::string>();
  if (limits.contains(phase) && limits[phase].is_string()) {
    return absl::StrCat(phase, ": ", limits[phase].get<std::string>());
  }
  return phase;
}

double RlvrObjectiveScore(SweepObjective objective, const RlvrSweepMetrics& m) {
  return objective == SweepObjective::kRlvrUsdPerStep ? -m.usd_per_step : -m.step_time_s;
}

bool RlvrMeets(const SweepSlo& slo, const RlvrSweepMetrics& m) { return RlvrSloRatio(slo, m) <= 1; }

double RlvrSloRatio(const SweepSlo& slo, const RlvrSweepMetrics& m) {
  double ratio = 0;
  if (slo.step_time_s) ratio = std::max(ratio, m.step_time_s / *slo.step_time_s);
  if (slo.usd_per_step) ratio = std::max(ratio, m.usd_per_step / *slo.usd_per_step);
  return ratio;
}

std::string DescribeRlvrSlo(const SweepSlo& slo, const RlvrSweepMetrics& m) {
  std::vector<std::string> parts;
  if (slo.step_time_s) {
    parts.push_back(absl::StrFormat("step %.4g s (SLO %g)", m.step_time_s, *slo.step_time_s));
  }
  if (slo.usd_per_step) {
    parts.push_back(absl::StrFormat("$%.4g per step (SLO %g)", m.usd_per_step, *slo.usd_per_step));
  }
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&s, i ? ", " : "", parts[i]);
  return s;
}

std::string DescribeRlvrStep(const RlvrSweepMetrics& m) {
  std::string split = absl::StrFormat("rollout %.4g s, training %.4g s, sync %.3g s", m.rollout_s,
                                      m.training_s, m.weight_sync_s);
  if (m.switch_s > 0) absl::StrAppendFormat(&split, ", switch %.3g s", m.switch_s);
  return absl::StrFormat("step %.4g s (%s), $%.4g per step, %.3g steps/day", m.step_time_s, split,
                         m.usd_per_step, m.steps_per_day);
}

}  // namespace moesim
