// Paged KV-cache accounting for one instance (per GPU; every rank of an instance holds the same
// number of blocks).
//
// A block holds `block_tokens` tokens of every full-attention layer (vLLM's paging). Sliding-
// window layers hold at most the window, and linear-attention layers a fixed state per
// sequence; both are converted to block equivalents so one pool covers every layer kind.
//
//   KvFootprint fp(model, /*attention_tp=*/1, /*block_tokens=*/16);
//   PagedKvPool pool(fp.BlocksInBudget(80e9));
//   if (pool.TryTake(fp.BlocksFor(542))) ...
#pragma once

#include <cstdint>

#include "models/decode_step.h"
#include "models/model_spec.h"

namespace moesim {

// How a serving stack stores linear-attention (Gated DeltaNet) state
// (docs/research/hybrid_amd_overlap.md §A.2-A.3).
struct LinearStateLayout {
  double bytes_per_element = 2;  // recurrent-state precision (the conv window is always bf16)
  // vLLM's hybrid allocator: one pool, one page size. The attention block grows to the smallest
  // multiple of block_tokens whose one-layer page holds one layer's state, and each linear
  // layer's state is padded to such a page.
  bool page_aligned = false;
  // SGLang: the state lives in its own pool (MambaPool), outside the KV blocks.
  bool separate_pool = false;
};

class KvFootprint {
 public:
  // `pipeline_stages`: a GPU holds the KV of its stage's layers only; the footprint is that of
  // the stage with the most KV.
  KvFootprint(const ModelSpec& model, int attention_tp, int block_tokens, int pipeline_stages = 1,
              LinearStateLayout state = {});

  // Speculative decoding with a separate draft model: every token's KV of the draft's layers
  // (sharded `attention_tp` ways like the target's) sits in the target's block beside it, so
  // a block grows by the draft's bytes per token; a sliding-window draft layer is counted as
  // a full one (the draft keeps whole sequences in practice; an upper bound).
  void AddDraftKv(const ModelSpec& draft, int attention_tp);

  double BlockBytes() const { return block_bytes_; }  // bytes of one block on one GPU
  int block_tokens() const { return block_tokens_; }
  // Blocks a sequence holding `tokens` tokens needs.
  int64_t BlocksFor(int64_t tokens) const;
  // Blocks that fit in `budget_bytes` of one GPU.
  int64_t BlocksInBudget(double budget_bytes) const;
  // Bytes one sequence of `tokens` tokens holds on one GPU (block rounding included).
  double BytesFor(int64_t tokens) const;
  // Linear-attention state of one sequence on one GPU held outside the KV blocks (separate
  // pool), 0 otherwise.
  double SeparateStateBytes() const { return separate_state_bytes_; }

 private:
  int sliding_window_tokens_;
  int block_tokens_;
  double full_bytes_per_token_;      // summed over full-attention layers
  double sliding_bytes_per_token_;   // summed over sliding-window layers
  double state_bytes_;               // summed over linear-attention layers, in the KV pool
  double separate_state_bytes_ = 0;  // summed over linear-attention layers, own pool
  double block_bytes_;

  void SetBlockBytes();
};

// Free/used block counter of one instance. Invariant: 0 <= used() <= total() at every event:
// TryTake refuses what does not fit, and giving back more than is in use (a block freed twice)
// stops the run (MOESIM_CHECK).
class PagedKvPool {
 public:
  explicit PagedKvPool(int64_t total_blocks) : total_(total_blocks) {}
  int64_t total() const { return total_; }
  int64_t used() const { return used_; }
  int64_t free() const { return total_ - used_; }
  bool TryTake(int64_t blocks);  // false (and nothing taken) if blocks < 0 or > free()
  void Give(int64_t blocks);     // ignores blocks <= 0; blocks > used() is a broken invariant

 private:
  int64_t total_;
  int64_t used_ = 0;
};

}  // namespace moesim
