#include "models/serving_stack_rules.h"

#include <algorithm>
#include <cmath>

#include "models/speculative.h"

namespace moesim {

namespace {

double GiB(const GpuSpec& gpu) { return gpu.HbmBytes() / double(1ull << 30); }

}  // namespace

namespace {

// Whether a stack whose overlap survives under `kept` keeps it while drafting with `method`.
bool OverlapSurvives(SpeculativeOverlap kept, DraftMethod method) {
  switch (kept) {
    case SpeculativeOverlap::kNone:
      return false;
    case SpeculativeOverlap::kMtp:
      return method == DraftMethod::kMtp;
    case SpeculativeOverlap::kMtpAndEagle:
      return method != DraftMethod::kDraftModel;
    case SpeculativeOverlap::kAll:
      return true;
  }
  return true;
}

}  // namespace

void ResolveRuntimeDefaults(RuntimeSpec& r, const GpuSpec& gpu, const StackPlanShape& plan) {
  const double gib = GiB(gpu);
  // A stack that resets its running cap when it speculates (SGLang: 48), unless one was given.
  if (plan.speculative && !r.max_num_seqs && r.speculative_max_num_seqs) {
    r.max_num_seqs = r.speculative_max_num_seqs;
  }
  switch (r.family) {
    case StackFamily::kVllm: {
      const bool large = gib >= 70;
      if (!r.max_num_seqs) r.max_num_seqs = large ? 1024 : 256;
      if (!r.max_num_batched_tokens) r.max_num_batched_tokens = large ? 8192 : 2048;
      if (!r.cuda_graph_max_batch) r.cuda_graph_max_batch = std::min(2 * *r.max_num_seqs, 512);
      break;
    }
    case StackFamily::kSglang: {
      // max_running_requests is the DP-attention group's: each rank schedules its share
      // (scheduler: max_running_requests // attn_dp_size). Left open, it comes from each
      // rank's own KV pool (ResolveRunningCap), which is per rank already.
      if (r.max_num_seqs && plan.dp_attention > 1) {
        r.max_num_seqs = std::max(1, *r.max_num_seqs / plan.dp_attention);
      }
      if (!r.max_num_batched_tokens) {
        r.max_num_batched_tokens = gib < 35 ? 2048 : gib < 60 ? 4096 : gib < 160 ? 8192 : 16384;
      }
      if (!r.cuda_graph_max_batch) {
        r.cuda_graph_max_batch = gib < 160 && plan.tp_size < 4 ? 256 : 512;
      }
      if (!r.memory_fraction) {
        const double mib = gib * 1024;
        const double bs = *r.cuda_graph_max_batch;
        double reserved = 512 + 1.5 * std::max(*r.max_num_batched_tokens, 2048) + 2 * bs +
                          plan.tp_size * plan.pp / 8.0 * 1024;
        if (plan.dp_attention > 1) reserved += bs * plan.dp_attention * 3 * (bs > 300 ? 1.5 : 1);
        if (gib > 60) reserved = std::max(reserved, 10.0 * 1024);
        r.memory_fraction = std::round((mib - reserved) / mib * 1000) / 1000;
      }
      break;
    }
    case StackFamily::kTrtllm:
      if (!r.max_num_seqs) r.max_num_seqs = 2048;
      if (!r.max_num_batched_tokens) r.max_num_batched_tokens = 8192;
      if (!r.cuda_graph_max_batch) r.cuda_graph_max_batch = 128;
      break;
    case StackFamily::kAtom:
      if (!r.max_num_seqs) r.max_num_seqs = 512;
      if (!r.max_num_batched_tokens) r.max_num_batched_tokens = 16384;
      if (!r.cuda_graph_max_batch) r.cuda_graph_max_batch = 512;
      break;
  }
  if (r.cuda_graph_max_batch && r.max_num_seqs) {
    r.cuda_graph_max_batch = std::min(*r.cuda_graph_max_batch, *r.max_num_seqs);
  }
  if (plan.speculative && !OverlapSurvives(r.speculative_host_overlap, *plan.speculative)) {
    r.host_overlap = false;
  }
}

void ResolveRunningCap(RuntimeSpec& r, int64_t kv_tokens, int64_t context_tokens) {
  if (r.max_num_seqs) return;
  const int64_t by_context = context_tokens > 0 ? kv_tokens * 512 / context_tokens : 4096;
  const int64_t cap = std::min<int64_t>({std::max<int64_t>(by_context, 2048), 4096, kv_tokens / 2});
  r.max_num_seqs = static_cast<int>(std::max<int64_t>(1, cap));
  if (r.cuda_graph_max_batch) {
    r.cuda_graph_max_batch = std::min(*r.cuda_graph_max_batch, *r.max_num_seqs);
  }
}

}  // namespace moesim
