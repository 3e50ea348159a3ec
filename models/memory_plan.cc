#include "models/memory_plan.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace moesim {

namespace {

// SGLang --mamba-full-memory-ratio default: mamba budget = rest × r / (1 + r).
constexpr double kSglangMambaRatio = 0.9;
// SGLang MAMBA_CACHE_SIZE_MAX_RUNNING_REQUESTS_RATIO with the radix cache on (the default).
constexpr int64_t kSglangSlotsPerRunning = 3;

}  // namespace

double WeightBytesPerGpu(const ModelSpec& m, const ParallelPlan& p) {
  const double dense_b = WeightBytesPerElement(m.weight_dtype);
  const double expert_b = WeightBytesPerElement(m.expert_weight_dtype);
  const double bf16 = WeightBytesPerElement(DType::kBf16);
  // Expert slots per GPU: (experts + redundant) / ep whole experts, each 1 / moe_tp of its
  // intermediate dimension.
  const double expert_slots = double(m.moe.routed_experts + p.redundant_experts) / p.ep / p.MoeTp();
  const double embedding = m.vocab * double(m.hidden) * bf16 / p.tp;  // embedding or LM head
  double worst = 0;
  for (int s = 0; s < p.pp; ++s) {
    double bytes = 0;
    // Attention/FFN disaggregation: each side holds its own part (ParallelPlan::holds).
    const bool attention_part = p.holds != ParallelPlan::Holds::kExpertSide;
    const bool routed_part = p.holds != ParallelPlan::Holds::kAttentionSide;
    const bool shared_part =
        p.holds == ParallelPlan::Holds::kAll ||
        (p.holds == ParallelPlan::Holds::kExpertSide) == p.shared_on_expert_side;
    if (attention_part && s == 0) bytes += embedding;
    if (attention_part && s == p.pp - 1 && !m.tie_embeddings) bytes += embedding;
    if (attention_part && s == p.pp - 1 && m.tie_embeddings && p.pp > 1) {
      bytes += embedding;  // a copy per end
    }
    const LayerRange range = StageLayers(m.layers, p.pp, s);
    for (int i = range.first; i < range.end; ++i) {
      const double attn = m.AttentionOf(i) == LayerAttention::kLinear
                              ? m.LinearAttentionParamsPerLayer()
                              : m.AttentionParamsPerLayer();
      if (attention_part) bytes += attn * dense_b / p.tp;
      if (m.IsMoeLayer(i)) {
        if (routed_part) bytes += expert_slots * m.ExpertParams() * expert_b;
        if (shared_part) bytes += m.SharedExpertParams() * dense_b / p.DenseTp();
        if (attention_part) bytes += m.RouterParams() * bf16;
      } else if (attention_part) {
        bytes += m.DenseFfnParams() * dense_b / p.DenseTp();
      }
    }
    worst = std::max(worst, bytes);
  }
  return worst;
}

double ActivationPeakBytes(const ModelSpec& m, const RuntimeSpec& r, const ParallelPlan& p) {
  constexpr double kAct = 2.0, kFp32 = 4.0;
  const double tokens = r.MaxNumBatchedTokens();
  const double h = m.hidden;
  const double hidden_states = 2.0 * tokens * h * kAct;  // residual + normalised input
  double attention = 0;
  if (m.attention.kind == AttentionKind::kMla) {
    const AttentionSpec& a = m.attention;
    attention = tokens * a.q_heads / p.tp * (a.qk_nope_dim + a.qk_rope_dim + a.v_head_dim) * kAct;
  } else {
    const AttentionSpec& a = m.attention;
    attention = tokens * (a.q_heads + 2.0 * a.kv_heads) / p.tp * a.head_dim * kAct;
  }
  const double inter = double(m.moe.expert_inter) / p.MoeTp();
  const double moe =
      m.moe.routed_experts > 0 ? tokens * m.moe.top_k / p.ep * (3.0 * inter + h) * kAct : 0.0;
  const double dense = tokens * 3.0 * m.moe.dense_inter / p.DenseTp() * kAct;
  const double logits = 2.0 * r.MaxNumSeqs() * double(m.vocab) * kFp32;
  return hidden_states + std::max({attention, moe, dense}) + logits;
}

LinearStateLayout StateLayoutOf(const RuntimeSpec& r) {
  LinearStateLayout l;
  l.bytes_per_element = r.linear_state_bytes;
  l.page_aligned = r.family == StackFamily::kVllm;
  l.separate_pool = r.family == StackFamily::kSglang;
  return l;
}

absl::StatusOr<MemoryPlan> PlanMemory(const ModelSpec& model, const GpuSpec& gpu,
                                      const RuntimeSpec& runtime, const ParallelPlan& plan,
                                      const KvFootprint& footprint, int64_t max_sequence_tokens,
                                      double extra_weight_bytes) {
  MemoryPlan mp;
  mp.total_bytes = gpu.HbmBytes();
  mp.weight_bytes = WeightBytesPerGpu(model, plan) + extra_weight_bytes;
  const double fraction = runtime.MemoryFraction();
  if (runtime.memory_fraction_of != MemoryFractionOf::kWeightsAndKv) {
    mp.reserve_bytes = runtime.activation_reserve_gb ? *runtime.activation_reserve_gb * 1e9
                                                     : ActivationPeakBytes(model, runtime, plan) +
                                                           runtime.non_torch_reserve_gb * 1e9;
  }
  double rest = 0;  // for KV (and a separate state pool)
  switch (runtime.memory_fraction_of) {
    case MemoryFractionOf::kTotal:
      mp.usable_bytes = fraction * mp.total_bytes;
      rest = mp.usable_bytes - mp.weight_bytes - mp.reserve_bytes;
      break;
    case MemoryFractionOf::kWeightsAndKv:
      mp.usable_bytes = fraction * mp.total_bytes;
      rest = mp.usable_bytes - mp.weight_bytes;
      break;
    case MemoryFractionOf::kFreeAfterActivations:
      mp.usable_bytes = mp.total_bytes;
      rest = fraction * (mp.total_bytes - mp.weight_bytes - mp.reserve_bytes);
      break;
  }
  if (footprint.SeparateStateBytes() > 0 && rest > 0) {
    mp.state_pool_bytes = rest * kSglangMambaRatio / (1 + kSglangMambaRatio);
    rest -= mp.state_pool_bytes;
    mp.state_slots = static_cast<int64_t>(mp.state_pool_bytes / footprint.SeparateStateBytes());
    mp.running_cap_by_state = mp.state_slots / kSglangSlotsPerRunning;
  }
  mp.kv_budget_bytes = rest;
  mp.kv_blocks = footprint.BlocksInBudget(mp.kv_budget_bytes);
  mp.kv_capacity_tokens = mp.kv_blocks * footprint.block_tokens();
  const int64_t needed = footprint.BlocksFor(max_sequence_tokens);
  if (mp.kv_blocks < needed ||
      (footprint.SeparateStateBytes() > 0 && mp.running_cap_by_state < 1)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the plan does not fit in HBM: per GPU, weights %.2f GB + activations and workspaces "
        "%.2f GB + KV of one %d-token sequence %.3f GB (+ linear-attention state pool %.2f GB) "
        "exceed what %s grants (memory_fraction %.3f of %s, %.2f GB of HBM); %s",
        mp.weight_bytes / 1e9, mp.reserve_bytes / 1e9, max_sequence_tokens,
        footprint.BytesFor(max_sequence_tokens) / 1e9, mp.state_pool_bytes / 1e9, runtime.name,
        fraction,
        runtime.memory_fraction_of == MemoryFractionOf::kFreeAfterActivations
            ? "the memory left after weights and activations"
            : "the HBM",
        gpu.hbm_gb,
        fraction <= 0 ? "the stack's rule reserves more than the HBM for this plan (SGLang's "
                        "grows with the DP-attention size): set runtime.memory_fraction"
                      : "use more GPUs per instance, a smaller dtype, or shorter sequences"));
  }
  return mp;
}

}  // namespace moesim
