// Runs a collective on SimGrid's clock from the calling actor, at one of three fidelities:
//
//  * analytic: sleeps for the link-load bound of the routed traffic (CollectivePattern::Estimate);
//  * ptask:    one SimGrid parallel task with the per-GPU byte matrix (host/model:ptask_L07),
//              whose duration is the bottleneck bound when alone and shares links with others;
//  * flows:    one SimGrid flow per GPU pair (max-min fair sharing per flow, CM02).
// In every case the collective's latency (launch + step latencies) is a sleep before the
// transfer. Isolated and balanced, the three agree; under contention or with several
// interacting bottlenecks ptask and flows differ (../shared/reference/simgrid-notes.md §5.2).
#pragma once

#include <vector>

#include <simgrid/forward.h>

#include "topology/collective_pattern.h"
#include "topology/simgrid_platform.h"

namespace moesim {

enum class CollectiveFidelity { kAnalytic, kPtask, kFlows };
const char* CollectiveFidelityName(CollectiveFidelity f);

class CollectiveRunner {
 public:
  CollectiveRunner(const SimgridPlatform& platform, CollectiveFidelity fidelity)
      : platform_(platform), fidelity_(fidelity) {}

  // Returns the analytic cost with `seconds` replaced by the simulated duration. `weights`
  // scale the per-pair payloads (CollectivePattern::Weights; empty: uniform).
  CollectiveCost Run(const CollectivePattern& pattern, double message_bytes, double launch_us,
                     const CollectivePattern::Weights& weights = {});

  // A collective given by its analytic cost and its wire transfers among `gpus` (composite
  // collectives whose phases run concurrently, e.g. DeepEP's normal kernels): sleeps
  // cost.latency_s, then moves `wire` at this fidelity (analytic: sleeps cost.transfer_s).
  CollectiveCost RunPlanned(const std::vector<int>& gpus, CollectiveCost cost,
                            const std::vector<Transfer>& wire);
  // Starts RunPlanned() at absolute time `start_s` (>= now) in a helper actor on `host`, so that
  // several collectives can be in flight; the result is written to `*out` when it ends. Join
  // the returned actor before reading `*out`; `gpus` must outlive it.
  simgrid::s4u::ActorPtr StartPlanned(simgrid::s4u::Host* host, const std::vector<int>* gpus,
                                      CollectiveCost cost, std::vector<Transfer> wire,
                                      double start_s, CollectiveCost* out);

 private:
  void MoveWire(const std::vector<int>& gpus, const std::vector<Transfer>& wire);

  const SimgridPlatform& platform_;
  CollectiveFidelity fidelity_;
};

}  // namespace moesim
