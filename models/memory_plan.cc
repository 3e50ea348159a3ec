#include "models/memory_plan.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace moesim {

double WeightBytesPerGpu(const ModelSpec& m, const ParallelPlan& p) {
  const double dense_b = WeightBytesPerElement(m.weight_dtype);
  const double expert_b = WeightBytesPerElement(m.expert_weight_dtype);
  const double bf16 = WeightBytesPerElement(DType::kBf16);
  const double expert_split = p.ep > 1 ? p.ep : p.tp;
  const double embedding = m.vocab * double(m.hidden) * bf16 / p.tp;  // embedding or LM head
  double worst = 0;
  for (int s = 0; s < p.pp; ++s) {
    double bytes = 0;
    if (s == 0) bytes += embedding;
    if (s == p.pp - 1 && !m.tie_embeddings) bytes += embedding;
    if (s == p.pp - 1 && m.tie_embeddings && p.pp > 1) bytes += embedding;  // a copy per end
    const LayerRange range = StageLayers(m.layers, p.pp, s);
    for (int i = range.first; i < range.end; ++i) {
      const double attn = m.AttentionOf(i) == LayerAttention::kLinear
                              ? m.LinearAttentionParamsPerLayer()
                              : m.AttentionParamsPerLayer();
      bytes += attn * dense_b / p.tp;
      if (m.IsMoeLayer(i)) {
        bytes += m.moe.routed_experts * m.ExpertParams() * expert_b / expert_split +
                 m.SharedExpertParams() * dense_b / p.tp + m.RouterParams() * bf16;
      } else {
        bytes += m.DenseFfnParams() * dense_b / p.tp;
      }
    }
    worst = std::max(worst, bytes);
  }
  return worst;
}

absl::StatusOr<MemoryPlan> PlanMemory(const ModelSpec& model, const GpuSpec& gpu,
                                      const RuntimeSpec& runtime, const ParallelPlan& plan,
                                      const KvFootprint& footprint, int64_t max_sequence_tokens) {
  MemoryPlan mp;
  mp.usable_bytes = runtime.gpu_memory_utilization * gpu.HbmBytes();
  mp.weight_bytes = WeightBytesPerGpu(model, plan);
  mp.reserve_bytes = runtime.activation_reserve_gb * 1e9;
  mp.kv_budget_bytes = mp.usable_bytes - mp.weight_bytes - mp.reserve_bytes;
  mp.kv_blocks = footprint.BlocksInBudget(mp.kv_budget_bytes);
  mp.kv_capacity_tokens = mp.kv_blocks * footprint.block_tokens();
  const int64_t needed = footprint.BlocksFor(max_sequence_tokens);
  if (mp.kv_blocks < needed) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the plan does not fit in HBM: per GPU, weights %.2f GB + activation reserve %.2f GB + "
        "KV of one %d-token sequence %.3f GB exceed the usable %.2f GB "
        "(gpu_memory_utilization %.2f × %.2f GB); use more GPUs per instance, a smaller dtype, "
        "or shorter sequences",
        mp.weight_bytes / 1e9, mp.reserve_bytes / 1e9, max_sequence_tokens,
        footprint.BytesFor(max_sequence_tokens) / 1e9, mp.usable_bytes / 1e9,
        runtime.gpu_memory_utilization, gpu.hbm_gb));
  }
  return mp;
}

}  // namespace moesim
