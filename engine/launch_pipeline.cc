#include "engine/launch_pipeline.h"

#include <algorithm>

namespace moesim {

void LaunchPipeline::AddTransfer(double seconds, int tier,
                                 const std::array<double, 4>& tier_bytes) {
  breakdown_.comm_s += seconds;
  breakdown_.comm_tier_s[tier] += seconds;
  for (size_t i = 0; i < tier_bytes.size(); ++i) breakdown_.tier_bytes[i] += tier_bytes[i];
}

void TimeBreakdown::Scale(double f) {
  compute_s *= f;
  memory_s *= f;
  launch_s *= f;
  host_s *= f;
  comm_s *= f;
  for (size_t i = 0; i < comm_tier_s.size(); ++i) comm_tier_s[i] *= f;
  flops *= f;
  hbm_bytes *= f;
}

void TimeBreakdown::Add(const TimeBreakdown& o) {
  compute_s += o.compute_s;
  memory_s += o.memory_s;
  launch_s += o.launch_s;
  host_s += o.host_s;
  comm_s += o.comm_s;
  for (size_t i = 0; i < comm_tier_s.size(); ++i) {
    comm_tier_s[i] += o.comm_tier_s[i];
    tier_bytes[i] += o.tier_bytes[i];
  }
  flops += o.flops;
  hbm_bytes += o.hbm_bytes;
  kernels += o.kernels;
}

void LaunchPipeline::BeginStep(double now_s, int64_t running_seqs, bool host_work) {
  const double host_s =
      host_work
          ? (runtime_.host_step_overhead_us + runtime_.host_per_seq_overhead_us * running_seqs) *
                1e-6
          : 0.0;
  cpu_s_ = now_s + host_s;
  gpu_free_s_ = now_s;
  if (runtime_.mode == ExecutionMode::kCudaGraph) cpu_s_ += runtime_.graph_launch_us * 1e-6;
  first_in_step_ = true;
}

double LaunchPipeline::Issue() {
  const double issue = cpu_s_;
  if (runtime_.mode == ExecutionMode::kEager) cpu_s_ += runtime_.eager_launch_gap_us * 1e-6;
  return issue;
}

void LaunchPipeline::Place(double start_s) {
  const double idle = start_s - gpu_free_s_;
  if (idle > 0) (first_in_step_ ? breakdown_.host_s : breakdown_.launch_s) += idle;
  first_in_step_ = false;
}

double LaunchPipeline::Kernel(const KernelTime& t, const Op& op) {
  const double start = std::max(Issue(), gpu_free_s_);
  Place(start);
  double duration = t.seconds;
  if (runtime_.mode == ExecutionMode::kCudaGraph) {
    const double node = runtime_.graph_node_us * 1e-6;
    duration += node;
    breakdown_.launch_s += node;
  }
  (t.bound == Bound::kCompute ? breakdown_.compute_s : breakdown_.memory_s) += t.seconds;
  breakdown_.flops += op.flops;
  breakdown_.hbm_bytes += op.bytes;
  ++breakdown_.kernels;
  gpu_free_s_ = start + duration;
  return gpu_free_s_;
}

double LaunchPipeline::NextStart() {
  pending_start_s_ = std::max(Issue(), gpu_free_s_);
  Place(pending_start_s_);
  return pending_start_s_;
}

void LaunchPipeline::CollectiveDone(double end_s, int bottleneck_tier,
                                    const std::array<double, 4>& tier_bytes) {
  breakdown_.comm_s += end_s - pending_start_s_;
  breakdown_.comm_tier_s[bottleneck_tier] += end_s - pending_start_s_;
  for (size_t i = 0; i < tier_bytes.size(); ++i) breakdown_.tier_bytes[i] += tier_bytes[i];
  ++breakdown_.kernels;
  gpu_free_s_ = end_s;
}

}  // namespace moesim
