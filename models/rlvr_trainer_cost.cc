#include "models/rlvr_trainer_cost.h"

#include <algorithm>

namespace moesim {

namespace {

// 2 × heads × (qk + v) FLOPs per (query, key) pair per layer, forward (QK^T and PV).
double AttentionPairFlops(const AttentionSpec& a) {
  const double qk = a.kind == AttentionKind::kMla ? a.qk_nope_dim + a.qk_rope_dim : a.head_dim;
  const double v = a.kind == AttentionKind::kMla ? a.v_head_dim : a.head_dim;
  return 2.0 * a.q_heads * (qk + v);
}

}  // namespace

double TrainSampleFlops(const ModelSpec& model, int64_t prompt_tokens, int64_t response_tokens,
                        bool reference_model) {
  const double n = double(prompt_tokens + response_tokens);
  double pairs_full = n * (n + 1) / 2;  // causal
  double pairs_sliding = pairs_full;
  if (model.sliding_window_tokens > 0 && n > model.sliding_window_tokens) {
    const double w = model.sliding_window_tokens;
    pairs_sliding = w * (w + 1) / 2 + (n - w) * w;
  }
  const double attention = AttentionPairFlops(model.attention) *
                           (pairs_full * model.CountLayers(LayerAttention::kFull) +
                            pairs_sliding * model.CountLayers(LayerAttention::kSliding));
  const double forward = 2.0 * model.ActiveParams() * n + attention;
  return 3.0 * forward + (reference_model ? forward : 0.0);
}

double OptimizerStepSeconds(const ModelSpec& model, const GpuSpec& gpu, int gpus) {
  return model.TotalParams() * kAdamStepBytesPerParam / std::max(1, gpus) / gpu.HbmBytesPerSecond();
}

double TrainerStateBytesPerGpu(const ModelSpec& model, int gpus) {
  return model.TotalParams() * kAdamStateBytesPerParam / std::max(1, gpus);
}

}  // namespace moesim
