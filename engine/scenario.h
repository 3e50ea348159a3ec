// A scenario file, parsed, validated and with every preset resolved.
//
// Sections (DESIGN.md §4): name, description, hardware, model, runtime, deployment, workload,
// simulation, economics, reference. Each spec parses itself (models/*_spec.h); this file
// composes them into a Scenario and its Plan (plan/pool_spec.h: one "serve" pool, or the pools
// of deployment.pools) and validates the whole by deploying it (plan/deployment.h: parallel
// degrees that divide the GPUs, heads and experts; pools that fit the cluster; weights plus one
// longest sequence that fit in HBM), keeping nothing derived. Every error names the file, the
// JSON path, the value and the expectation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "engine/collective_runner.h"
#include "engine/pool_context.h"
#include "models/decode_step.h"
#include "models/expert_placement.h"
#include "models/expert_routing.h"
#include "models/fault_spec.h"
#include "models/gpu_spec.h"
#include "models/kv_cache.h"
#include "models/kv_hierarchy.h"
#include "models/memory_plan.h"
#include "models/model_spec.h"
#include "models/preset_library.h"
#include "models/rlvr_spec.h"
#include "models/runtime_spec.h"
#include "models/speculative.h"
#include "models/workload.h"
#include "plan/deployment.h"
#include "plan/pool_spec.h"
#include "topology/cluster_spec.h"

namespace moesim {

// How faithfully a step is simulated (engine/step_runner.h runs every fidelity).
enum class Fidelity {
  kStep,    // analytic step: kernels and collectives from formulas, one SimGrid sleep per step
  kLayer,   // kernels analytic, every collective a set of SimGrid flows on the platform (default)
  kKernel,  // every kernel a SimGrid Exec on its GPU host, every collective SimGrid flows
};
const char* FidelityName(Fidelity f);

struct HardwareSpec {
  GpuSpec gpu;
  ClusterSpec cluster;
};

struct SimulationSpec {
  double duration_s = 0;  // simulated time
  double warmup_s = 0;    // excluded from every metric
  uint64_t seed = 1;
  Fidelity fidelity = Fidelity::kLayer;
  // Default (CollectivesFor resolves it per pool): analytic under "step" fidelity and, at
  // "layer" fidelity, while every instance fits in one server (no link shared between
  // instances) unless KV transfers may share them; when instances span servers, analytic for
  // DP-attention EP groups and parallel tasks otherwise; flows at "kernel" fidelity.
  CollectiveFidelity collectives = CollectiveFidelity::kFlows;
  bool collectives_given = false;  // set in the scenario (else the default above applies)
  // The report's time series interval (engine/time_series.h); default: duration_s / 100.
  double timeseries_interval_s = 0;
};

struct EconomicsSpec {
  // A price for every GPU of the scenario; absent: each pool's GPU preset price.
  std::optional<double> usd_per_gpu_hour;
  double PriceFor(const GpuSpec& gpu) const { return usd_per_gpu_hour.value_or(gpu.usd_per_hour); }
};

// A published measurement a scenario reproduces (scenarios/reference/).
struct ReferenceMeasurement {
  std::string metric;  // report path, e.g. "throughput.output_tok_per_s"
  double value = 0;
  std::string unit;
  std::string source;
  double tolerance_pct = 0;
};

// Parsed and validated; nothing derived (plan/deployment.h places and memory-plans the pools).
struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  HardwareSpec hardware;  // hardware.gpu: the GPU of pools that name none
  ModelSpec model;
  RuntimeSpec runtime;  // the runtime of pools that give none, as given (preset merged)
  // The pools: deployment.pools, or one "serve" pool of hardware.gpu, runtime and the
  // deployment keys.
  Plan plan;
  WorkloadSpec workload;
  SimulationSpec simulation;
  EconomicsSpec economics;
  std::vector<ReferenceMeasurement> references;
  // Per-step routing samples (stragglers, imbalance); absent: uniform routing's expected load
  // of the busiest GPU (models/routing.h).
  std::optional<RoutingSpec> routing;
  // Speculative decoding (models/speculative.h); absent: none.
  std::optional<SpeculativeSpec> speculative;
  // The KV hierarchy (models/kv_hierarchy.h): prefix caching, host tier, swap; absent: HBM only.
  std::optional<KvHierarchySpec> kv_hierarchy;
  // An RLVR step (models/rlvr_spec.h): the rollout's samples replace the workload (which is
  // then a closed loop of one step's samples with the rollout's lengths, for estimates).
  std::optional<RlvrSpec> rlvr;
  // Hardware failures during the run (models/fault_spec.h); empty: none.
  std::vector<FaultSpec> faults;

  const ClusterSpec& cluster() const { return hardware.cluster; }
  // The longest sequence the workload can produce (prompt + output tokens).
  int64_t LongestSequenceTokens() const;
};

// The scenario's pools placed on its cluster and memory-planned (plan/deployment.h).
absl::StatusOr<Deployment> DeployScenario(const Scenario& s);
// simulation.collectives, or its default for `pool` when the scenario gave none: the cheapest
// path that is exact where no two activities can share a link, SimGrid where contention can
// change the answer. Analytic under "step" fidelity; at "layer" fidelity, analytic while every
// instance fits in one server (each GPU has its own scale-up links, so instances share none;
// tests/engine/collective_fidelity_test.cc measures closed form against flows) unless the plan
// is disaggregated (KV transfers may cross the same links: flows); when an instance spans
// servers, analytic all-to-alls for DP-attention EP groups (a SimGrid parallel task per
// all-to-all costs ~0.1 s of wall time at EP 256; tests/engine/ep_group_fidelity_test.cc
// measures the shortcut; attention/FFN hops likewise, tests/scenarios/afd_test.cc) and parallel
// tasks otherwise; at "kernel" fidelity, flows.
CollectiveFidelity CollectivesFor(const Scenario& s, const PoolDeployment& pool);
// What a deployed pool's GPUs cost per hour (both sides of an attention/FFN plan at their own
// prices).
double PoolUsdPerHour(const Scenario& scenario, const PoolDeployment& pool);
// What simulating `pool` of `s` needs (both must outlive the context).
PoolContext ContextFor(const Scenario& s, const PoolDeployment& pool);
// The pool of a one-pool plan, for the commands that analyse one serve pool (`moesim step`,
// the probes): an error naming $.deployment.pools for plans of several pools, which only
// `moesim run` simulates.
absl::StatusOr<const PoolDeployment*> ServePool(const Scenario& s, const Deployment& d);

// The scenario deployed and its serve pool's context, which refers into `deployment` (the
// struct stays where it was made: it is handed out behind a unique_ptr).
struct ServeSetup {
  Deployment deployment;
  std::unique_ptr<PoolContext> pool;
};
absl::StatusOr<std::unique_ptr<ServeSetup>> SetUpServePool(const Scenario& s);

// Reads and validates `path`.
absl::StatusOr<Scenario> LoadScenario(const std::string& path, const PresetLibrary& presets);
// Same, from an already parsed document (`file` is used in messages).
absl::StatusOr<Scenario> ParseScenario(const nlohmann::json& doc, const std::string& file,
                                       const PresetLibrary& presets);
// The fully resolved scenario: every preset value and default that applied, and each pool as
// deployed (its servers, its runtime with the stack's rules applied, its memory plan).
nlohmann::json ScenarioToJson(const Scenario& scenario);

}  // namespace moesim
