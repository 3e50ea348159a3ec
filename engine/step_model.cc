#include "engine/step_model.h"

#include <algorithm>

#include <string>

#include "models/routing.h"

namespace moesim {

double StageActivationBytes(const ModelSpec& model, const StepBatch& batch) {
  return double(batch.tokens()) * model.hidden * 2.0;
}

namespace {

// Every GPU's load given the busiest's: layer l's busiest GPU is rank l mod ep; the others share
// the rest of the layer's pairs evenly.
std::vector<std::vector<MoeLayerLoad>> SpreadLoads(const MoeSpec& moe, const ParallelPlan& plan,
                                                   int moe_layers, double group_tokens,
                                                   const MoeLayerLoad& busiest) {
  const int ep = std::max(1, plan.ep);
  MoeLayerLoad rest = busiest;
  if (ep > 1) {
    const double total = group_tokens * moe.top_k;
    rest.assignments = std::max(0.0, total - busiest.assignments) / (ep - 1);
    const double slots = (double(moe.routed_experts) + plan.redundant_experts) / ep;
    rest.active_experts = ExpectedDistinctSlots(slots, rest.assignments);
  }
  std::vector<std::vector<MoeLayerLoad>> out;
  out.reserve(moe_layers);
  for (int layer = 0; layer < moe_layers; ++layer) {
    std::vector<MoeLayerLoad> gpus(ep, rest);
    gpus[layer % ep] = busiest;
    out.push_back(std::move(gpus));
  }
  return out;
}

}  // namespace

std::vector<std::vector<MoeLayerLoad>> ExpectedGpuLoads(const ModelSpec& model,
                                                        const ParallelPlan& plan,
                                                        double group_tokens) {
  return SpreadLoads(
      model.moe, plan, model.MoeLayerCount(), group_tokens,
      ExpectedBusiestGpuLoad(model.moe, plan.redundant_experts, plan.ep, group_tokens));
}

ExpectedLoadMemo::ExpectedLoadMemo(const ModelSpec& model, const ParallelPlan& plan)
    : moe_(model.moe), moe_layers_(model.MoeLayerCount()), plan_(plan) {}

MoeLayerLoad ExpectedLoadMemo::BusiestLoad(double group_tokens) const {
  auto it = busiest_.find(group_tokens);
  if (it != busiest_.end()) return it->second;
  if (busiest_.size() >= kMaxEntries) busiest_.clear();
  const MoeLayerLoad load =
      ExpectedBusiestGpuLoad(moe_, plan_.redundant_experts, plan_.ep, group_tokens);
  busiest_.emplace(group_tokens, load);
  return load;
}

std::vector<std::vector<MoeLayerLoad>> ExpectedLoadMemo::PerGpu(double group_tokens) const {
  return SpreadLoads(moe_, plan_, moe_layers_, group_tokens, BusiestLoad(group_tokens));
}

StepBatch VerifyBatch(const ModelSpec& model, int64_t seqs, double context_tokens,
                      int draft_tokens) {
  StepBatch batch = DecodeBatch(model, seqs, context_tokens);
  if (draft_tokens > 0) {
    const double n = 1.0 + draft_tokens;
    batch.speculative_tokens = seqs * draft_tokens;
    batch.full_pairs = double(seqs) * (n * context_tokens + n * (n + 1) / 2);
  }
  return batch;
}

StepBatch DraftExtendBatch(const ModelSpec& draft, int64_t seqs, double context_tokens,
                           int draft_tokens) {
  return VerifyBatch(draft, seqs, context_tokens, draft_tokens);
}

StepBatch PrefillBatch(const ModelSpec& model, int64_t prompts, int64_t prompt_tokens) {
  StepBatch b;
  const double n = double(prompt_tokens), k = double(prompts);
  b.prefill_tokens = prompts * prompt_tokens;
  b.prefill_seqs = prompts;
  b.sampled_seqs = prompts;
  // Token j of a prompt (1-based) attends to j tokens (as InstanceScheduler::Account counts).
  b.full_pairs = k * n * (n + 1) / 2;
  b.full_kv_tokens = k * n;
  const double w = model.sliding_window_tokens;
  if (w > 0) {
    const double full_part = std::min(n, w);
    b.sliding_pairs = k * (full_part * (full_part + 1) / 2 + (n - full_part) * w);
    b.sliding_kv_tokens = k * std::min(n, w);
  }
  b.prefill_full_pairs = b.full_pairs;
  b.prefill_full_kv_tokens = b.full_kv_tokens;
  b.prefill_sliding_pairs = b.sliding_pairs;
  b.prefill_sliding_kv_tokens = b.sliding_kv_tokens;
  return b;
}

StepBatch PromptPart(const StepBatch& step) {
  StepBatch b;
  b.prefill_tokens = step.prefill_tokens;
  b.prefill_seqs = step.prefill_seqs;
  // The prompts that finish this step: every sampled sequence that is not decoding.
  b.sampled_seqs = step.sampled_seqs - step.decode_seqs;
  b.full_pairs = b.prefill_full_pairs = step.prefill_full_pairs;
  b.full_kv_tokens = b.prefill_full_kv_tokens = step.prefill_full_kv_tokens;
  b.sliding_pairs = b.prefill_sliding_pairs = step.prefill_sliding_pairs;
  b.sliding_kv_tokens = b.prefill_sliding_kv_tokens = step.prefill_sliding_kv_tokens;
  return b;
}

StepBatch& AddBatch(StepBatch& to, const StepBatch& b) {
  to.decode_seqs += b.decode_seqs;
  to.prefill_tokens += b.prefill_tokens;
  to.prefill_seqs += b.prefill_seqs;
  to.sampled_seqs += b.sampled_seqs;
  to.speculative_tokens += b.speculative_tokens;
  to.full_pairs += b.full_pairs;
  to.full_kv_tokens += b.full_kv_tokens;
  to.sliding_pairs += b.sliding_pairs;
  to.sliding_kv_tokens += b.sliding_kv_tokens;
  to.prefill_full_pairs += b.prefill_full_pairs;
  to.prefill_full_kv_tokens += b.prefill_full_kv_tokens;
  to.prefill_sliding_pairs += b.prefill_sliding_pairs;
  to.prefill_sliding_kv_tokens += b.prefill_sliding_kv_tokens;
  return to;
}

StepBatch DraftPassBatch(const ModelSpec& draft, const StepBatch& step, int draft_tokens, int pass,
                         bool prefill_pool) {
  const double context = step.seqs() > 0 ? step.full_kv_tokens / double(step.seqs()) : 0.0;
  if (pass == 0) {
    StepBatch extend = DraftExtendBatch(draft, step.decode_seqs, context, draft_tokens);
    return AddBatch(extend, PromptPart(step));
  }
  return DecodeBatch(draft, prefill_pool ? 0 : step.sampled_seqs, context + pass);
}

StepBatch DecodeBatch(const ModelSpec& model, int64_t seqs, double context_tokens) {
  StepBatch b;
  b.decode_seqs = seqs;
  b.sampled_seqs = seqs;
  b.full_pairs = double(seqs) * (context_tokens + 1);
  b.full_kv_tokens = b.full_pairs;
  const double w = model.sliding_window_tokens;
  if (w > 0) {
    b.sliding_pairs = double(seqs) * std::min(context_tokens + 1, w);
    b.sliding_kv_tokens = b.sliding_pairs;
  }
  return b;
}

}  // namespace moesim
