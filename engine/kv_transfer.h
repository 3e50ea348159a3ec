// Moves a sequence's KV cache between GPUs on SimGrid's clock (prefill -> decode in
// disaggregation), from the calling actor: the connector's setup time (a sleep), then every GPU
// pair's bytes as one SimGrid flow on the routed links (bytes / link_efficiency on the wire,
// models/kv_connector.h), sharing those links with collectives and other transfers. Under
// analytic communication (step fidelity) the bulk is the link-load bound of the routed pairs
// instead (an idle fabric: no contention).
//
// Must be used from SimGrid actors; the platform must have routes for every pair it is given.
#pragma once

#include <array>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "models/kv_connector.h"
#include "topology/cluster_graph.h"
#include "topology/simgrid_platform.h"

namespace moesim {

struct KvTransferOutcome {
  double seconds = 0;  // setup + bulk, as simulated
  double bytes = 0;    // payload over all pairs (without the efficiency's inflation)
  std::array<double, kLinkTierCount> tier_bytes{};  // payload × links of each tier crossed
  int bottleneck_tier = -1;  // the tier of the busiest link direction (-1: nothing moved)
};

class KvTransferRunner {
 public:
  KvTransferRunner(const SimgridPlatform& platform, const ClusterGraph& graph,
                   const KvConnectorSpec& connector, bool analytic);

  // Blocks the calling actor until `pairs` have moved; `setup`: whether the connector's
  // per-transfer setup is charged (not for the tail of a layer-wise transfer).
  absl::StatusOr<KvTransferOutcome> Run(const std::vector<Transfer>& pairs, bool setup);

 private:
  // Per pair set (the same shard layouts recur for every request): tier bytes per payload byte
  // and the analytic bound's parts.
  struct Routed {
    std::array<double, kLinkTierCount> tier_share{};
    double seconds_per_byte = 0;  // busiest link direction's time per payload byte
    double latency_s = 0;         // longest route latency
    int bottleneck_tier = -1;
  };
  absl::StatusOr<const Routed*> Route(const std::vector<Transfer>& pairs, double bytes);

  const SimgridPlatform& platform_;
  const ClusterGraph& graph_;
  KvConnectorSpec connector_;
  bool analytic_;
  std::map<std::vector<std::pair<int, int>>, Routed> routed_;
};

// Runs each set of pairs in turn on an otherwise idle `cluster` (its own SimGrid engine: one
// per process) and returns each one's simulated seconds. For reference tests and calibration.
absl::StatusOr<std::vector<double>> ProbeKvTransfers(
    const ClusterSpec& cluster, const KvConnectorSpec& connector,
    const std::vector<std::vector<Transfer>>& transfers, bool analytic);

}  // namespace moesim
