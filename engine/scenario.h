// A scenario file, parsed, validated and with every preset resolved.
//
// Sections (DESIGN.md §4): name, description, hardware, model, runtime, deployment, workload,
// simulation, economics, reference. Each spec parses itself (models/*_spec.h); this file
// composes them and checks the plan as a whole: parallel degrees that divide the GPUs, heads
// and experts; weights plus one longest sequence that fit in HBM. Every error names the file,
// the JSON path, the value and the expectation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "engine/collective_runner.h"
#include "models/decode_step.h"
#include "models/expert_placement.h"
#include "models/expert_routing.h"
#include "models/gpu_spec.h"
#include "models/kv_cache.h"
#include "models/memory_plan.h"
#include "models/model_spec.h"
#include "models/preset_library.h"
#include "models/runtime_spec.h"
#include "models/workload.h"
#include "topology/cluster_spec.h"

namespace moesim {

// How faithfully a step is simulated (see engine/step_executor.h).
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

struct DeploymentSpec {
  ParallelPlan plan;  // per instance
  int instances = 1;  // data-parallel replicas, each on its own GPUs
  // How instances take servers: "packed" fills racks in order (an instance spans as few racks
  // as possible); "spread" takes servers rack-interleaved (server k of every rack, then k+1),
  // so an instance larger than a server spans racks and instances share the rack uplinks.
  enum class Placement { kPacked, kSpread };
  Placement placement = Placement::kPacked;
  PlacementSpec expert_placement;  // where routed experts live on the ep GPUs of a stage
  // DP-attention EP groups only. Two-batch overlap (DeepSeek / SGLang): each rank splits its
  // batch into two micro-batches and interleaves them so that one's dispatch / combine runs
  // while the other computes.
  bool two_batch_overlap = false;
  // DP-attention EP groups only: which DeepEP kernels carry dispatch and combine. Low-latency
  // (SGLang's decode default): every expert copy goes straight to its GPU. Normal
  // (high-throughput): one RDMA send per (token, server) to the same local rank there, then
  // NVLink forwarding (topology/deepep_normal_pattern.h).
  enum class MoeDispatch { kLowLatency, kNormal };
  MoeDispatch moe_dispatch = MoeDispatch::kLowLatency;

  std::vector<int> gpu_order;  // slot -> global GPU index, filled from the cluster shape
  int gpus_per_instance() const { return plan.dp_attention ? plan.ep : plan.tp * plan.pp; }

  // Global GPU indices of instance `i` (instances take consecutive GPUs, server-major) and of
  // its pipeline stage `stage` (tp consecutive GPUs).
  std::vector<int> InstanceGpus(int i) const;
  std::vector<int> StageGpus(int i, int stage) const;
};

const char* MoeDispatchName(DeploymentSpec::MoeDispatch d);  // "low_latency" / "normal"

struct SimulationSpec {
  double duration_s = 0;  // simulated time
  double warmup_s = 0;    // excluded from every metric
  uint64_t seed = 1;
  Fidelity fidelity = Fidelity::kLayer;
  // Default: analytic under "step" fidelity; per-GPU flows while every instance fits in one
  // server; when instances span servers, analytic for DP-attention EP groups and parallel tasks
  // otherwise (per-flow cost grows as flows², see README "Speed").
  CollectiveFidelity collectives = CollectiveFidelity::kFlows;
  bool collectives_given = false;  // set in the scenario (else the default above applies)
};

struct EconomicsSpec {
  double usd_per_gpu_hour = 0;
};

// A published measurement a scenario reproduces (scenarios/reference/).
struct ReferenceMeasurement {
  std::string metric;  // report path, e.g. "throughput.output_tok_per_s"
  double value = 0;
  std::string unit;
  std::string source;
  double tolerance_pct = 0;
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  HardwareSpec hardware;
  ModelSpec model;
  RuntimeSpec runtime;
  DeploymentSpec deployment;
  WorkloadSpec workload;
  SimulationSpec simulation;
  EconomicsSpec economics;
  std::vector<ReferenceMeasurement> references;
  // Per-step routing samples (stragglers, imbalance); absent: uniform routing's expected load.
  std::optional<RoutingSpec> routing;

  MemoryPlan memory;  // per GPU, derived

  int total_gpus() const { return deployment.instances * deployment.gpus_per_instance(); }
  const ClusterSpec& cluster() const { return hardware.cluster; }
  KvFootprint Footprint() const {
    return KvFootprint(model, deployment.plan.tp, runtime.kv_block_tokens, deployment.plan.pp,
                       StateLayoutOf(runtime));
  }
};

// Reads and validates `path`.
absl::StatusOr<Scenario> LoadScenario(const std::string& path, const PresetLibrary& presets);
// Same, from an already parsed document (`file` is used in messages).
absl::StatusOr<Scenario> ParseScenario(const nlohmann::json& doc, const std::string& file,
                                       const PresetLibrary& presets);
// The fully resolved scenario: every preset value and default that applied.
nlohmann::json ScenarioToJson(const Scenario& scenario);

}  // namespace moesim
