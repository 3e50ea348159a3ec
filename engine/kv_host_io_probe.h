// Copies between GPUs and their servers' host memory on an otherwise idle cluster (its own
// SimGrid engine: one per process), timed as the KV hierarchy times them (engine/kv_host_io.h).
// For reference tests against published copy bandwidths (nvbandwidth, vLLM's offloading blog).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "models/kv_storage.h"
#include "topology/cluster_spec.h"

namespace moesim {

struct HostCopyProbe {
  std::vector<int> gpus;     // each copies over its own host link, side by side
  double bytes_per_gpu = 0;  // payload per GPU and direction
  bool to_host = false;      // GPU -> host
  bool from_host = false;    // host -> GPU (both: the two directions at once)
  bool ssd_read = false;     // SSD -> host -> GPU, the read beside the copy (needs `ssd`)
  bool ssd_write = false;    // host -> SSD (needs `ssd`)
};

// Each probe's simulated seconds, one after the other; `analytic`: closed form (no flows);
// `ssd`: the servers' SSDs (nullptr: none).
absl::StatusOr<std::vector<double>> ProbeHostCopies(const ClusterSpec& cluster,
                                                    const std::vector<HostCopyProbe>& probes,
                                                    bool analytic,
                                                    const KvStorageSpec* ssd = nullptr);

}  // namespace moesim
