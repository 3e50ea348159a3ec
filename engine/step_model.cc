#include "engine/step_model.h"

#include <algorithm>

#include "models/kernel_cost.h"

namespace moesim {

double RingAllReduceBytesPerGpu(double message_bytes, int tp) {
  return tp <= 1 ? 0.0 : 2.0 * (tp - 1) / tp * message_bytes;
}

double AllReduceSeconds(const Scenario& s, double message_bytes) {
  const int tp = s.deployment.plan.tp;
  if (tp <= 1) return 0.0;
  const GpuSpec& gpu = s.hardware.gpu;
  return (s.runtime.allreduce_latency_us + gpu.scaleup_latency_us) * 1e-6 +
         RingAllReduceBytesPerGpu(message_bytes, tp) / (gpu.scaleup_gb_per_s * 1e9);
}

StepEstimate EstimateStep(const Scenario& s, const StepBatch& batch, int64_t running_seqs) {
  const StepProgram program = BuildStepProgram(s.model, s.runtime, s.deployment.plan, batch);
  const KernelCostModel cost(s.hardware.gpu, s.runtime);
  LaunchPipeline pipe(s.runtime);
  pipe.BeginStep(0.0, running_seqs);
  for (int b : program.order) {
    for (const Op& op : program.blocks[b]) {
      if (op.cls == OpClass::kAllReduce) {
        const double start = pipe.NextStart();
        pipe.CollectiveDone(start + AllReduceSeconds(s, op.message_bytes));
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
