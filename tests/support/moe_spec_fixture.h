// A routed-expert spec for routing tests: `experts` experts, top-k, and group-limited routing
// (DeepSeek-V3: 8 groups, top 4) when n_group > 1.
#pragma once

#include "models/model_spec.h"

namespace moesim::testing {

inline MoeSpec MoeOf(int experts, int top_k, int n_group = 1, int topk_group = 1) {
  MoeSpec m;
  m.routed_experts = experts;
  m.top_k = top_k;
  m.n_group = n_group;
  m.topk_group = topk_group;
  return m;
}

}  // namespace moesim::testing
