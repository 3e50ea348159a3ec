// The report of a plan with several pools (prefill and decode pools of a disaggregated
// deployment, or several serve pools): per pool its own section (engine/report.h
// BuildPoolSection: GPUs, utilisation, tok/s per GPU, limit with evidence, ...), and for the
// whole deployment: throughput over all GPUs and per decode GPU, latency percentiles with the
// time to first token split into its stages, the KV transfers per fabric tier, the decode
// back-pressure, the pool that limits the deployment, power and cost.
#pragma once

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/handoff_metrics.h"
#include "engine/report.h"

namespace moesim {

struct PoolReportInputs {
  const PoolContext* pool = nullptr;
  const MetricsCollector* metrics = nullptr;
  FabricContext fabric;
  SpeculationReport speculation;
};

// `requests`: every finished request of the plan (whatever pool it finished in); `handoff`: the
// prefill -> decode measurements, nullptr for a plan without disaggregation.
nlohmann::json BuildPlanReport(const Scenario& scenario, const std::vector<PoolReportInputs>& pools,
                               const MetricsCollector& requests, const HandoffMetrics* handoff);

}  // namespace moesim
