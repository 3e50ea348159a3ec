// The "kv_hierarchy" section of a pool's report (models/kv_hierarchy.h): the prefix cache's
// hit ratio per tier, the blocks and bytes moved over the host links per direction and cause,
// their utilisation, the SSD tier's reads and writes, the time steps waited for those copies,
// the host and SSD tiers' peak use,
// preemptions by kind, and the hierarchy's limit with its evidence.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "engine/metrics.h"
#include "engine/pool_context.h"

namespace moesim {

// The busiest direction's share of the host links' and of the SSDs' bandwidth over a window of
// `window_s` seconds (payload over the pool's GPUs' host links; over its servers' SSDs).
struct KvIoUtilisation {
  double host_link = 0;
  double ssd = 0;
  // What a step waiting for KV I/O waits for: "kv_ssd" when the SSDs are the busier, else
  // "kv_host_link" (the name in the run's limit).
  const char* LimitName() const { return ssd > host_link ? "kv_ssd" : "kv_host_link"; }
};
KvIoUtilisation KvIoUtilisationOf(const PoolContext& pool, const KvTierStats& k, double window_s);

// `all`: the pool's instances summed over the window of `window_s` seconds; `preemptions`:
// all preemptions in the window.
nlohmann::json KvHierarchySection(const PoolContext& pool, const InstanceTotals& all,
                                  double window_s, int64_t preemptions);

}  // namespace moesim
