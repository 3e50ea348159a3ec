// The "attention_ffn" section of a pool's report (attention/FFN disaggregation,
// engine/afd_instance.h): the hops' bytes per hop, step and token, their time and how much of
// it the ping-pong hides, each side's GPU time and utilisation, the limiting side with its
// evidence, and the expert side's memory.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "engine/metrics.h"
#include "engine/pool_context.h"

namespace moesim {

// `all`: the pool's instances summed over the window.
nlohmann::json AfdSection(const PoolContext& pool, const InstanceTotals& all);

}  // namespace moesim
