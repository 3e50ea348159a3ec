// Assembly of a run's report from the collected metrics: throughput, latency percentiles,
// batch and KV occupancy, utilisation, the time share of every subsystem and the limiting one,
// analytic upper bounds per subsystem in tok/s/GPU (seed 002 style), power and cost.
//
// The report is JSON (keys sorted, numbers in shortest round-trip form) so that the same
// scenario and seed give byte-identical output. Unbounded bounds are null.
#pragma once

#include <array>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include <functional>

#include "engine/instance_fabric.h"
#include "engine/metrics.h"
#include "engine/scenario.h"
#include "engine/step_runner.h"

namespace moesim {

// What the report needs to know of the fabric the deployment uses.
struct FabricContext {
  // Instance 0's steady decode step on an idle fabric (Instance::EstimateDecode); may be empty.
  std::function<StepTiming(int64_t seqs, double context_tokens)> estimate_decode;
  // Per tier: Σ bandwidth of the link directions the deployment's collectives cross, B/s.
  std::array<double, kLinkTierCount> tier_capacity_bytes_per_s{};
};

// The report of simulating `pool` of `scenario`.
nlohmann::json BuildReport(const Scenario& scenario, const PoolContext& pool,
                           const MetricsCollector& metrics, const FabricContext& fabric);

// Linear-interpolated percentile (0..100) of `values`; values is sorted in place. 0 if empty.
double Percentile(std::vector<double>& values, double pct);

}  // namespace moesim
