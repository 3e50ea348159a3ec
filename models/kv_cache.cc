#include "models/kv_cache.h"

#include <algorithm>
#include <cmath>

#include "models/invariant.h"

namespace moesim {

KvFootprint::KvFootprint(const ModelSpec& model, int attention_tp, int block_tokens,
                         int pipeline_stages, LinearStateLayout layout)
    : sliding_window_tokens_(model.sliding_window_tokens), block_tokens_(block_tokens) {
  const double per_layer = model.KvBytesPerTokenPerLayer(attention_tp);
  // The stage with the most attention layers (then the most linear layers) sets the footprint.
  int full = 0, sliding = 0, linear = 0;
  for (int s = 0; s < pipeline_stages; ++s) {
    const LayerRange range = StageLayers(model.layers, pipeline_stages, s);
    int f = 0, sl = 0, li = 0;
    for (int l = range.first; l < range.end; ++l) {
      const LayerAttention kind = model.AttentionOf(l);
      f += kind == LayerAttention::kFull ? 1 : 0;
      sl += kind == LayerAttention::kSliding ? 1 : 0;
      li += kind == LayerAttention::kLinear ? 1 : 0;
    }
    if (s == 0 || f + sl > full + sliding || (f + sl == full + sliding && li > linear)) {
      full = f;
      sliding = sl;
      linear = li;
    }
  }
  full_bytes_per_token_ = per_layer * full;
  sliding_bytes_per_token_ = per_layer * sliding;
  const double state_per_layer =
      model.LinearStateBytesPerLayer(attention_tp, layout.bytes_per_element);
  state_bytes_ = state_per_layer * linear;
  if (layout.page_aligned && linear > 0 && per_layer > 0) {
    // vLLM HybridAttentionMambaModelConfig: block = A·cdiv(state page, A·one-token page).
    const double pages = std::ceil(state_per_layer / (block_tokens * per_layer));
    block_tokens_ = static_cast<int>(block_tokens * pages);
    state_bytes_ = linear * block_tokens_ * per_layer;  // each layer's state padded to a page
  }
  if (layout.separate_pool) {
    separate_state_bytes_ = state_bytes_;
    state_bytes_ = 0;
  }
  SetBlockBytes();
}

void KvFootprint::SetBlockBytes() {
  if (full_bytes_per_token_ > 0) {
    block_bytes_ = full_bytes_per_token_ * block_tokens_;
  } else if (sliding_bytes_per_token_ > 0) {
    block_bytes_ = sliding_bytes_per_token_ * block_tokens_;
  } else {
    block_bytes_ = std::max(state_bytes_, 1.0);
  }
}

void KvFootprint::AddDraftKv(const ModelSpec& draft, int attention_tp) {
  const int layers =
      draft.CountLayers(LayerAttention::kFull) + draft.CountLayers(LayerAttention::kSliding);
  full_bytes_per_token_ += draft.KvBytesPerTokenPerLayer(attention_tp) * layers;
  SetBlockBytes();
}

double KvFootprint::BytesFor(int64_t tokens) const {
  const double bt = block_tokens_;
  const double full_blocks = std::ceil(double(tokens) / bt);
  const double window = std::min<double>(tokens, sliding_window_tokens_);
  const double sliding_blocks = std::ceil(window / bt);
  return full_blocks * bt * full_bytes_per_token_ + sliding_blocks * bt * sliding_bytes_per_token_ +
         state_bytes_;
}

int64_t KvFootprint::BlocksFor(int64_t tokens) const {
  return static_cast<int64_t>(std::ceil(BytesFor(tokens) / block_bytes_ - 1e-9));
}

int64_t KvFootprint::BlocksInBudget(double budget_bytes) const {
  if (budget_bytes <= 0) return 0;
  return static_cast<int64_t>(std::floor(budget_bytes / block_bytes_));
}

bool PagedKvPool::TryTake(int64_t blocks) {
  if (blocks < 0 || blocks > free()) return false;
  used_ += blocks;
  return true;
}

void PagedKvPool::Give(int64_t blocks) {
  if (blocks <= 0) return;
  MOESIM_CHECK(blocks <= used_, "KV blocks freed twice: ", blocks, " given back, ", used_,
               " in use of ", total_);
  used_ -= blocks;
}

}  // namespace moesim
