// What simulating one pool needs: the scenario's model, workload, simulation settings and
// routing model, the cluster, and the pool as deployed (plan/deployment.h). Components take this
// (or the parts of it they use), never the whole Scenario, so that a simulation of several pools
// hands each component its own pool.
#pragma once

#include <optional>
#include <vector>

#include "engine/collective_runner.h"
#include "models/expert_routing.h"
#include "models/kv_hierarchy.h"
#include "models/model_spec.h"
#include "models/speculative.h"
#include "models/workload.h"
#include "plan/deployment.h"
#include "topology/cluster_spec.h"

namespace moesim {

struct SimulationSpec;

struct PoolContext {
  const ModelSpec& model;
  const PoolDeployment& deployed;
  const ClusterSpec& cluster_spec;
  const WorkloadSpec& workload;
  const SimulationSpec& simulation;
  const std::optional<RoutingSpec>& routing;
  const std::optional<SpeculativeSpec>& speculative;
  const std::optional<KvHierarchySpec>& kv_hierarchy;
  // simulation.collectives with its plan-dependent default resolved (CollectivesFor).
  CollectiveFidelity collectives = CollectiveFidelity::kFlows;
  // deployment.router is "cache_aware": a DP-attention group also sends a session's later turns
  // to the rank that served its first (whose prefix cache holds its history).
  bool cache_aware_ranks = false;

  const RuntimeSpec& runtime() const { return deployed.spec.runtime; }
  const GpuSpec& gpu() const { return deployed.spec.gpu; }
  const DeploymentSpec& deployment() const { return deployed.spec.deployment; }
  const ParallelPlan& plan() const { return deployed.plan(); }
  const MemoryPlan& memory() const { return deployed.memory; }
  const ClusterSpec& cluster() const { return cluster_spec; }
  KvFootprint Footprint() const { return deployed.Footprint(model); }
  int gpus_per_instance() const { return deployed.gpus_per_instance(); }
  int total_gpus() const { return deployed.total_gpus(); }
  std::vector<int> InstanceGpus(int i) const { return deployed.InstanceGpus(i); }
  std::vector<int> StageGpus(int i, int stage) const { return deployed.StageGpus(i, stage); }
};

}  // namespace moesim
