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

#include "engine/instance.h"
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

// What the instances of a pool counted of speculative decoding, for its report.
struct SpeculationReport {
  SpeculationCounts counts;  // over the whole run
  double draft_share = 0;    // of a steady decode step at the mean batch (analytic)
};

// The report of simulating `pool` of `scenario` (`speculation`: with speculative decoding).
nlohmann::json BuildReport(const Scenario& scenario, const PoolContext& pool,
                           const MetricsCollector& metrics, const FabricContext& fabric,
                           const SpeculationReport* speculation = nullptr);

// The parts of a pool's report that speak for the pool alone (plan, throughput, batch, KV,
// memory, utilisation, time shares, limit, bounds, fabric, MoE, DCGM, power, cost): the whole
// report of a one-pool scenario but its latency, and a pool's section in a multi-pool report.
nlohmann::json BuildPoolSection(const Scenario& scenario, const PoolContext& pool,
                                const MetricsCollector& metrics, const FabricContext& fabric,
                                const SpeculationReport* speculation = nullptr);

// TTFT, TPOT and end-to-end latency distributions of finished requests; their e2e latencies
// are written to `e2e` when given.
nlohmann::json LatencySection(const std::vector<RequestRecord>& requests, std::vector<double>* e2e);
// Mean over requests of 1 / TPOT (tok/s a user sees).
double MeanPerUserTokPerS(const std::vector<RequestRecord>& requests);
// Warnings about a measurement window too short for steady-state latencies, and about an
// open-loop load the plan does not keep up with (completions well below arrivals).
nlohmann::json WindowWarnings(size_t finished, std::vector<double> e2e, double window_s,
                              const WorkloadSpec& workload);
// The mean per-user rate as JSON: null when no request finished with a TPOT.
nlohmann::json PerUserJson(double mean);
// {mean, p50, p90, p99, count} of `values`.
nlohmann::json Distribution(std::vector<double> values);

// Linear-interpolated percentile (0..100) of `values`; values is sorted in place. 0 if empty.
double Percentile(std::vector<double>& values, double pct);

}  // namespace moesim
