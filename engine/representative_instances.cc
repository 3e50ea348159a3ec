#include "engine/representative_instances.h"

#include <numeric>

namespace moesim {

std::optional<RepresentativeSet> RepresentativeInstances(const Scenario& s,
                                                         const nlohmann::json& document) {
  if (s.plan.pools.size() != 1 || s.plan.pools[0].role != PoolRole::kServe) return std::nullopt;
  // Faults name GPUs and hit some instances only: the instances are no longer alike.
  if (!s.faults.empty()) return std::nullopt;
  if (!document.contains("deployment") || document["deployment"].contains("pools")) {
    return std::nullopt;
  }
  const int instances = s.plan.pools[0].deployment.instances;
  if (instances <= 1) return std::nullopt;
  // Instances interact only through SimGrid activities on shared links: collectives that are
  // not analytic. (Per-pool defaults resolve the same way for every instance of the pool.)
  auto deployment = DeployScenario(s);
  if (!deployment.ok()) return std::nullopt;
  if (CollectivesFor(s, deployment->pools[0]) != CollectiveFidelity::kAnalytic &&
      s.simulation.fidelity != Fidelity::kStep) {
    return std::nullopt;
  }
  RepresentativeSet set;
  set.instances = instances;
  set.document = document;
  if (s.workload.arrival == WorkloadSpec::Arrival::kClosedLoop) {
    const int64_t clients = s.workload.concurrency;
    const int64_t g = std::gcd<int64_t>(clients, instances);
    set.simulated_instances = static_cast<int>(instances / g);
    set.document["workload"]["concurrency"] = clients / g;
  } else {
    set.simulated_instances = 1;
    set.document["workload"]["rate_per_s"] = s.workload.rate_per_s / instances;
  }
  if (set.simulated_instances >= instances) return std::nullopt;
  set.document["deployment"]["instances"] = set.simulated_instances;
  return set;
}

}  // namespace moesim
