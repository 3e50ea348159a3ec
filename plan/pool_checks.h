// Whole-plan checks of one pool against the model and the cluster: parallel degrees that tile
// servers and divide the GPUs, heads and experts; DeepEP kernels the stack can launch. Each
// error names the pool's deployment key at fault (PoolSpec::where), the value and what was
// expected. Memory is checked when the pool is deployed (plan/deployment.h).
#pragma once

#include "absl/status/status.h"
#include "models/model_spec.h"
#include "plan/pool_spec.h"
#include "topology/cluster_spec.h"

namespace moesim {

absl::Status CheckPoolShape(const PoolSpec& pool, const ModelSpec& model,
                            const ClusterSpec& cluster);

}  // namespace moesim
