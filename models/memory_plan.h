// How one GPU's HBM is divided: weights, the runtime's activation reserve, and the KV cache.
//
//   usable   = gpu_memory_utilization × HBM
//   kv       = usable − weights per GPU − activation reserve
//
// Weights per GPU (of the fullest pipeline stage; the first stage holds the embedding, the last
// the LM head): attention, dense FFN, shared experts and the (vocab-parallel) embedding and
// LM head are split tp ways; routed experts ep ways under expert parallelism or tp ways under
// expert tensor-parallelism; the router is replicated.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "models/decode_step.h"
#include "models/gpu_spec.h"
#include "models/kv_cache.h"
#include "models/model_spec.h"
#include "models/runtime_spec.h"

namespace moesim {

double WeightBytesPerGpu(const ModelSpec& model, const ParallelPlan& plan);

struct MemoryPlan {
  double usable_bytes = 0;
  double weight_bytes = 0;
  double reserve_bytes = 0;
  double kv_budget_bytes = 0;
  int64_t kv_blocks = 0;
  int64_t kv_capacity_tokens = 0;  // blocks × block tokens (what vLLM reports)
};

// Fails (with a message naming every term) unless one sequence of `max_sequence_tokens` fits.
absl::StatusOr<MemoryPlan> PlanMemory(const ModelSpec& model, const GpuSpec& gpu,
                                      const RuntimeSpec& runtime, const ParallelPlan& plan,
                                      const KvFootprint& footprint, int64_t max_sequence_tokens);

}  // namespace moesim
