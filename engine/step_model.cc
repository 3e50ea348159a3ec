#include "engine/step_model.h"

#include <algorithm>

#include "models/kernel_cost.h"

namespace moesim {

StepEstimate EstimateStep(const Scenario& s, const CollectivePattern* tp_ring,
                          const StepBatch& batch, int64_t running_seqs) {
  const StepProgram program = BuildStepProgram(s.model, s.runtime, s.deployment.plan, batch);
  const KernelCostModel cost(s.hardware.gpu, s.runtime);
  LaunchPipeline pipe(s.runtime);
  pipe.BeginStep(0.0, running_seqs);
  for (int b : program.order) {
    for (const Op& op : program.blocks[b]) {
      if (op.cls == OpClass::kAllReduce) {
        const double start = pipe.NextStart();
        if (tp_ring == nullptr) {
          pipe.CollectiveDone(start);
          continue;
        }
        const CollectiveCost c =
            tp_ring->Estimate(op.message_bytes, s.runtime.allreduce_latency_us);
        pipe.CollectiveDone(start + c.seconds, static_cast<int>(c.bottleneck_tier), c.tier_bytes);
      } else {
        pipe.Kernel(cost.Time(op), op);
      }
    }
  }
  StepEstimate e;
  e.seconds = pipe.gpu_free_s();
  e.breakdown = pipe.breakdown();
  return e;
}

StepBatch DecodeBatch(const Scenario& s, int64_t seqs, double context_tokens) {
  StepBatch b;
  b.decode_seqs = seqs;
  b.sampled_seqs = seqs;
  b.full_pairs = double(seqs) * (context_tokens + 1);
  b.full_kv_tokens = b.full_pairs;
  const double w = s.model.sliding_window_tokens;
  if (w > 0) {
    b.sliding_pairs = double(seqs) * std::min(context_tokens + 1, w);
    b.sliding_kv_tokens = b.sliding_pairs;
  }
  return b;
}

}  // namespace moesim
