// A tiny GQA MoE model for scheduler tests: 2 layers, 1 kv head of dim 8, bf16, so one token
// holds 2 * 1 * 8 * 2 = 32 B of KV per layer.
#pragma once

#include "models/model_spec.h"

namespace moesim::testing {

inline ModelSpec TinyModel() {
  ModelSpec m;
  m.name = "tiny";
  m.layers = 2;
  m.hidden = 16;
  m.vocab = 32;
  m.attention.q_heads = 2;
  m.attention.kv_heads = 1;
  m.attention.head_dim = 8;
  m.moe.routed_experts = 4;
  m.moe.top_k = 2;
  m.moe.expert_inter = 8;
  return m;
}

}  // namespace moesim::testing
