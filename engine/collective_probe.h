// Simulates one isolated collective in a fresh SimGrid engine: the building block of the
// collective fidelity tests and of tools/bench/bench_topology. Like every SimGrid run it must
// be the only engine of its process (call it through RunInSubprocesses).
#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/collective_runner.h"
#include "topology/cluster_spec.h"
#include "topology/collective_pattern.h"

namespace moesim {

struct ProbeResult {
  double simulated_s = 0;  // SimGrid's answer (or the analytic one at kAnalytic)
  double analytic_s = 0;   // CollectivePattern::Estimate
  double wall_s = 0;       // wall time of the simulation alone (platform build excluded)
};

// `make_pattern` builds the collective on the cluster graph; `message_bytes` and `launch_us` as
// in CollectivePattern::Estimate.
absl::StatusOr<ProbeResult> ProbeCollective(
    const ClusterSpec& cluster,
    const std::function<absl::StatusOr<CollectivePattern>(const ClusterGraph&)>& make_pattern,
    double message_bytes, double launch_us, CollectiveFidelity fidelity);

}  // namespace moesim
