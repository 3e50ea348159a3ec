// The "kv_hierarchy" section of a pool's report (models/kv_hierarchy.h): the prefix cache's
// hit ratio per tier, the blocks and bytes moved over the host links per direction and cause,
// their utilisation, the time steps waited for those copies, the host tier's peak use,
// preemptions by kind, and the hierarchy's limit with its evidence.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "engine/metrics.h"
#include "engine/pool_context.h"

namespace moesim {

// `all`: the pool's instances summed over the window of `window_s` seconds; `preemptions`:
// all preemptions in the window.
nlohmann::json KvHierarchySection(const PoolContext& pool, const InstanceTotals& all,
                                  double window_s, int64_t preemptions);

}  // namespace moesim
