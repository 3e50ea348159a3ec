#include "engine/launch_pipeline.h"

#include <algorithm>

namespace moesim {

void TimeBreakdown::Scale(double f) {
  compute_s *= f;
  memory_s *= f;
  launch_s *= f;
  host_s *= f;
  comm_s *= f;
  for (size_t i = 0; i < comm_tier_s.size(); ++i) comm_tier_s[i] *= f;
  flops *= f;
  hbm_bytes *= f;
  sm_active_s *= f;
  tensor_active_s *= f;
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
  sm_active_s += o.sm_active_s;
  tensor_active_s += o.tensor_active_s;
}

StepLaunch ChooseLaunch(const RuntimeSpec& r, const StepBatch& b) {
  if (r.mode == ExecutionMode::kEager) return StepLaunch::kEager;
  const int64_t cap = r.cuda_graph_max_batch ? *r.cuda_graph_max_batch : 0;
  if (b.prefill_tokens == 0 && b.decode_seqs <= cap) return StepLaunch::kFullGraph;
  if (r.uncaptured_launch == UncapturedLaunch::kPiecewise && b.tokens() <= cap) {
    return StepLaunch::kPiecewise;
  }
  return StepLaunch::kEager;
}

const char* StepLaunchName(StepLaunch l) {
  switch (l) {
    case StepLaunch::kFullGraph:
      return "full_graph";
    case StepLaunch::kPiecewise:
      return "piecewise";
    case StepLaunch::kEager:
      return "eager";
  }
  return "";
}

void LaunchPipeline::BeginStep(double now_s, int64_t running_seqs, bool host_work,
                               StepLaunch launch) {
  launch_ = launch;
  double host_s = host_work ? runtime_.HostStepSeconds(running_seqs) : 0.0;
  if (host_work && runtime_.host_overlap) {
    // The host prepared this step while the GPU ran the previous one, if the GPU went straight
    // on (no idle gap between the steps).
    const bool back_to_back = previous_end_s_ < 0 || now_s <= previous_end_s_ + 1e-12;
    if (back_to_back) host_s = std::max(0.0, host_s - previous_idle_cpu_s_);
  }
  cpu_s_ = now_s + host_s;
  gpu_free_s_ = now_s;
  step_start_s_ = now_s;
  if (launch_ == StepLaunch::kFullGraph) cpu_s_ += runtime_.graph_launch_us * 1e-6;
  first_in_step_ = true;
  in_piece_ = false;
}

void LaunchPipeline::WaitUntil(double t, int tier) {
  if (t <= gpu_free_s_) return;
  breakdown_.comm_s += t - gpu_free_s_;
  breakdown_.comm_tier_s[tier] += t - gpu_free_s_;
  gpu_free_s_ = t;
}

void LaunchPipeline::Hold(double start_s, double seconds, int tier) {
  breakdown_.comm_s += seconds;
  breakdown_.comm_tier_s[tier] += seconds;
  gpu_free_s_ = std::max(gpu_free_s_, start_s) + seconds;
}

void LaunchPipeline::EndStep() {
  previous_idle_cpu_s_ = IdleCpuSeconds();
  previous_end_s_ = gpu_free_s_;
}

double LaunchPipeline::Issue(const Op& op) {
  const bool eager_op = launch_ == StepLaunch::kEager ||
                        (launch_ == StepLaunch::kPiecewise && op.cls == OpClass::kAttention);
  if (launch_ == StepLaunch::kPiecewise) {
    if (eager_op) {
      in_piece_ = false;
    } else if (!in_piece_) {
      cpu_s_ += runtime_.graph_launch_us * 1e-6;  // replay of the next graph piece
      in_piece_ = true;
    }
  }
  const double issue = cpu_s_;
  if (eager_op) cpu_s_ += runtime_.eager_launch_gap_us * 1e-6;
  return issue;
}

void LaunchPipeline::Place(double start_s) {
  const double idle = start_s - gpu_free_s_;
  if (idle > 0) (first_in_step_ ? breakdown_.host_s : breakdown_.launch_s) += idle;
  first_in_step_ = false;
}

double LaunchPipeline::Kernel(const KernelTime& t, const Op& op) {
  const int n = std::max(1, op.kernels);
  const bool graphed = launch_ == StepLaunch::kFullGraph ||
                       (launch_ == StepLaunch::kPiecewise && op.cls != OpClass::kAttention);
  const double each = t.seconds / n;
  for (int k = 0; k < n; ++k) {
    const double start = std::max(Issue(op), gpu_free_s_);
    Place(start);
    double duration = each;
    if (graphed) {
      duration += graph_node_s_;
      breakdown_.launch_s += graph_node_s_;
    }
    gpu_free_s_ = start + duration;
  }
  (t.bound == Bound::kCompute ? breakdown_.compute_s : breakdown_.memory_s) += t.seconds;
  breakdown_.flops += op.flops;
  breakdown_.hbm_bytes += op.bytes;
  breakdown_.kernels += n;
  breakdown_.sm_active_s += std::max(0.0, t.seconds - t.fixed_seconds);
  if (op.cls == OpClass::kGemm || op.cls == OpClass::kMoe || op.cls == OpClass::kAttention) {
    breakdown_.tensor_active_s += op.flops / bf16_peak_;
  }
  return gpu_free_s_;
}

void KernelRun::Add(const KernelTime& t, const Op& op) {
  seconds += t.seconds;
  kernels += std::max(1, op.kernels);
  (t.bound == Bound::kCompute ? compute_s : memory_s) += t.seconds;
  flops += op.flops;
  hbm_bytes += op.bytes;
  sm_active_s += std::max(0.0, t.seconds - t.fixed_seconds);
  if (op.cls == OpClass::kGemm || op.cls == OpClass::kMoe || op.cls == OpClass::kAttention) {
    tensor_flops += op.flops;
  }
}

double LaunchPipeline::GraphedRun(const KernelRun& run) {
  if (run.kernels == 0) return gpu_free_s_;
  // Issue() of a full graph leaves the CPU where the replay put it; after the first kernel the
  // GPU is past that, so only the first can wait (Place), and the rest follow back to back.
  const double start = std::max(cpu_s_, gpu_free_s_);
  Place(start);
  const double gaps = double(run.kernels) * graph_node_s_;
  gpu_free_s_ = start + run.seconds + gaps;
  breakdown_.launch_s += gaps;
  breakdown_.compute_s += run.compute_s;
  breakdown_.memory_s += run.memory_s;
  breakdown_.flops += run.flops;
  breakdown_.hbm_bytes += run.hbm_bytes;
  breakdown_.kernels += run.kernels;
  breakdown_.sm_active_s += run.sm_active_s;
  breakdown_.tensor_active_s += run.tensor_flops / bf16_peak_;
  return gpu_free_s_;
}

double LaunchPipeline::NextStart() {
  Op collective;
  collective.cls = OpClass::kAllReduce;
  pending_start_s_ = std::max(Issue(collective), gpu_free_s_);
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
