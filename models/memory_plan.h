// How one GPU's HBM is divided: weights, activations and workspaces, and the KV cache, by the
// serving stack's own rule (RuntimeSpec::memory_fraction_of):
//
//   total:                  KV = fraction × HBM − weights − activations   (vLLM, ATOM)
//   weights_and_kv:         KV = fraction × HBM − weights                 (SGLang)
//   free_after_activations: KV = fraction × (HBM − weights − activations) (TensorRT-LLM)
//
// "Activations" is the runtime's activation_reserve_gb when given, else ActivationPeakBytes()
// plus the runtime's non-torch reserve (CUDA context, communication buffers, graphs).
//
// Weights per GPU (of the fullest pipeline stage; the first stage holds the embedding, the last
// the LM head): attention and the (vocab-parallel) embedding and LM head are split tp ways,
// dense FFN and shared experts dense_tp ways, routed experts over ep groups of tp / ep GPUs
// (plus redundant replicas), the router is replicated.
//
// Linear-attention state (hybrid models) follows the stack's layout (models/kv_cache.h): inside
// the KV pool (vLLM, page-aligned) or in its own pool (SGLang: rest × 0.9 / 1.9 of the memory
// after weights, --mamba-full-memory-ratio 0.9; running requests capped at slots / 3 with the
// radix cache on: docs/research/hybrid_amd_overlap.md §A.3).
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

// Peak activation bytes of one GPU in the stack's profiling forward pass: max_num_batched_tokens
// tokens through one layer (residual and hidden states, the larger of the attention and the
// MoE / MLP intermediates) plus fp32 logits and probabilities of max_num_seqs sequences.
double ActivationPeakBytes(const ModelSpec& model, const RuntimeSpec& runtime,
                           const ParallelPlan& plan);

// The linear-attention state layout of the stack (models/kv_cache.h).
LinearStateLayout StateLayoutOf(const RuntimeSpec& runtime);

struct MemoryPlan {
  double total_bytes = 0;   // HBM
  double usable_bytes = 0;  // what the stack's fraction grants weights + KV (+ activations)
  double weight_bytes = 0;
  double reserve_bytes = 0;     // activations, workspaces, non-torch memory
  double state_pool_bytes = 0;  // separate linear-state pool (SGLang), else 0
  double kv_budget_bytes = 0;
  int64_t kv_blocks = 0;
  int64_t kv_capacity_tokens = 0;    // blocks × block tokens (what the stack reports)
  int64_t state_slots = 0;           // sequences the separate state pool holds (0: no such pool)
  int64_t running_cap_by_state = 0;  // running requests the state pool allows (0: no cap)
};

// Fails (with a message naming every term) unless one sequence of `max_sequence_tokens` fits.
// `extra_weight_bytes`: weights a GPU holds besides the model's (a separate speculative draft
// model's shard), counted with them.
absl::StatusOr<MemoryPlan> PlanMemory(const ModelSpec& model, const GpuSpec& gpu,
                                      const RuntimeSpec& runtime, const ParallelPlan& plan,
                                      const KvFootprint& footprint, int64_t max_sequence_tokens,
                                      double extra_weight_bytes = 0);

}  // namespace moesim
