// The pools of a plan placed on the cluster, each with its stack's rules applied and its memory
// planned: what the engine simulates. Pure (no SimGrid).
//
// Placement: pools take whole servers, in declaration order. A pool orders the servers still
// free by its placement ("packed": by index, filling racks in order; "spread": server k of
// every rack, then k+1) and takes as many as its GPUs fill; instances then take the pool's GPUs
// consecutively (instance-major, stage-major inside an instance, tp consecutive GPUs per
// stage). Pools never share a server; the GPUs a pool leaves free on its last server stay idle.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "models/kv_cache.h"
#include "models/memory_plan.h"
#include "models/model_spec.h"
#include "plan/pool_spec.h"
#include "topology/cluster_spec.h"

namespace moesim {

enum class DraftMethod;  // models/speculative.h

struct PoolDeployment {
  PoolSpec spec;             // its runtime with the stack's rules applied (no open values)
  std::vector<int> servers;  // global server indices it occupies, in placement order
  std::vector<int> slots;    // slot -> global GPU index: its servers' GPUs in that order
  MemoryPlan memory;         // per GPU (attention/FFN disaggregation: per attention GPU)
  MemoryPlan expert_memory;  // attention/FFN disaggregation: per expert GPU (no KV); else unset
  int draft_layers = 0;      // DeployInputs::draft_layers: in the KV footprint and the memory
  // DeployInputs::draft_model: its KV beside the target's in every block, its weights in memory.
  std::shared_ptr<const ModelSpec> draft_model;

  const DeploymentSpec& deployment() const { return spec.deployment; }
  const ParallelPlan& plan() const { return spec.deployment.plan; }
  int gpus_per_instance() const { return spec.deployment.gpus_per_instance(); }
  int total_gpus() const { return spec.deployment.total_gpus(); }
  // Global GPU indices of instance `i`, of its pipeline stage `stage` (tp GPUs) and of its
  // draft model's own GPUs (none unless deployment().draft_gpus).
  std::vector<int> InstanceGpus(int i) const;
  std::vector<int> StageGpus(int i, int stage) const;
  std::vector<int> DraftGpus(int i) const;
  // A separate draft model on GPUs of its own: its memory there (per draft GPU); else unset.
  MemoryPlan draft_memory;
  // The KV cache's per-token footprint of `model` under this pool's plan and stack.
  KvFootprint Footprint(const ModelSpec& model) const;
};

struct Deployment {
  std::vector<PoolDeployment> pools;
};

// What deploying needs besides the plan: the model, the cluster and the longest sequence the
// workload can produce (prompt + output tokens), which must fit a GPU's KV cache.
struct DeployInputs {
  const ModelSpec& model;
  const ClusterSpec& cluster;
  int64_t longest_sequence_tokens = 0;
  // Draft layers every GPU holds besides the model's (speculative decoding with the model's MTP
  // layers: their weights and their own KV cache count in memory).
  int draft_layers = 0;
  // A separate draft model every GPU holds besides the model (speculative method
  // "draft_model"): its weights sharded under the pool's plan on one stage, its own KV cache
  // (each token's KV of every draft layer sits in the target's block, sharded like the
  // target's attention). Null: none.
  const ModelSpec* draft_model = nullptr;
  // Its GPUs per drafting instance when it has GPUs of its own (0: the target's).
  int draft_gpus = 0;
  // The speculative method the decoding pools draft with (prefill pools never speculate); it
  // decides whether the stack keeps its host overlap (ResolveRuntimeDefaults). Unset: none.
  std::optional<DraftMethod> speculative_method;
};

// Checks, places and memory-plans every pool. Errors name the pool's deployment object.
absl::StatusOr<Deployment> Deploy(const Plan& plan, const DeployInputs& in);

// The server order of a placement over `free` servers (ascending indices).
std::vector<int> OrderServers(const std::vector<int>& free, DeploymentSpec::Placement placement,
                              const ClusterSpec& cluster);

}  // namespace moesim
