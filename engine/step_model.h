// Small pieces of step arithmetic shared by the instance kinds, the report and `moesim step`
// (no SimGrid): a steady decode batch, the activations a pipeline stage hands on, and uniform
// routing's expected per-GPU MoE load in a DP-attention group. Turning a step into time is the
// step runner's business (engine/step_runner.h).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "models/decode_step.h"
#include "models/model_spec.h"

namespace moesim {

// Uniform routing's expected load of every GPU of a DP-attention EP group that processes
// `group_tokens` tokens in all (ExpectedBusiestGpuLoad, labelled analytic): [MoE layer][rank].
// Layer l's busiest GPU is rank l mod ep (the straggler
// moves from layer to layer, as sampled routing's does); the others share the remaining
// (token, expert) pairs evenly, so the group's pairs are conserved.
std::vector<std::vector<MoeLayerLoad>> ExpectedGpuLoads(const ModelSpec& model,
                                                        const ParallelPlan& plan,
                                                        double group_tokens);

// ExpectedGpuLoads of one model and plan, its busiest GPU's load remembered by token count: an
// instance asks every step and the answer depends on nothing else. Holds a copy of what it
// needs; at most kMaxEntries token counts (then it starts over).
class ExpectedLoadMemo {
 public:
  ExpectedLoadMemo(const ModelSpec& model, const ParallelPlan& plan);
  // Every GPU's load, [MoE layer][rank] (ExpectedGpuLoads).
  std::vector<std::vector<MoeLayerLoad>> PerGpu(double group_tokens) const;

 private:
  static constexpr size_t kMaxEntries = 1 << 16;
  MoeLayerLoad BusiestLoad(double group_tokens) const;
  MoeSpec moe_;
  int moe_layers_ = 0;
  ParallelPlan plan_;
  mutable std::unordered_map<double, MoeLayerLoad> busiest_;
};

// A steady decode batch of `seqs` sequences that each hold `context_tokens` tokens.
StepBatch DecodeBatch(const ModelSpec& model, int64_t seqs, double context_tokens);

// The same batch verifying `draft_tokens` drafts per sequence (speculative decoding): k + 1
// positions each, position j attending context + j tokens. draft_tokens 0: DecodeBatch.
StepBatch VerifyBatch(const ModelSpec& model, int64_t seqs, double context_tokens,
                      int draft_tokens);
// The first of k chained draft passes after a verification of `seqs` decoding sequences: it
// extends the draft layer's KV over every verified position (k + 1 per sequence) and proposes
// the first draft. Each later pass is DecodeBatch(draft, seqs, context + 1).
StepBatch DraftExtendBatch(const ModelSpec& draft, int64_t seqs, double context_tokens,
                           int draft_tokens);

// A step that prefills `prompts` whole prompts of `prompt_tokens` tokens each from an empty
// cache (every prompt samples its first token).
StepBatch PrefillBatch(const ModelSpec& model, int64_t prompts, int64_t prompt_tokens);

// The prefill part of a step's batch: its prompt tokens and what they attend to; sampled_seqs
// counts the prompts that finish this step. A speculative draft network runs over it too (its
// KV for the prompt, and the first draft of every prompt that finishes).
StepBatch PromptPart(const StepBatch& step);
// Adds every field of `b` to `to` (one pass over both batches' tokens); returns `to`.
StepBatch& AddBatch(StepBatch& to, const StepBatch& b);

// Draft pass `pass` (0 .. draft_tokens - 1) of speculative decoding after a step that ran `step`
// (an instance's batch, or one rank's): pass 0 extends the draft network's KV over every verified
// position (DraftExtendBatch) and over the step's prompt tokens (PromptPart), and proposes the
// first draft; each later pass proposes one more token, at `pass` tokens more context, for every
// sequence that verifies next step here: the step's sampled sequences, none in a prefill pool
// (whose first drafts go to the decode pool with the KV).
StepBatch DraftPassBatch(const ModelSpec& draft, const StepBatch& step, int draft_tokens, int pass,
                         bool prefill_pool);

// Bytes of activations one stage hands to the next for `batch` (bf16 hidden states).
double StageActivationBytes(const ModelSpec& model, const StepBatch& batch);

}  // namespace moesim
