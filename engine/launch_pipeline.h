// When each kernel of a step runs on the GPU, given how the host launches it.
//
// The host first does the step's CPU work (scheduling, input preparation: host_step_overhead +
// host_per_seq_overhead × running sequences), during which the GPU is idle. Then:
//  * eager mode: the CPU issues one kernel every eager_launch_gap; the GPU starts a kernel at
//    max(its issue time, end of the previous kernel), so long kernels let the CPU run ahead and
//    short kernels leave the GPU idle between launches (seed 000's ~33 µs gaps);
//  * CUDA-graph mode: one replay is issued after graph_launch; every node then runs back to back
//    with graph_node added to its duration.
// The step ends when the last kernel ends (the host waits for sampled tokens).
//
// Every fidelity level of the step executor drives this same recurrence, so they agree exactly
// on an isolated instance; they differ in which durations come from SimGrid activities.
// Times are absolute simulated seconds.
#pragma once

#include <array>
#include <cstdint>

#include "models/kernel_cost.h"
#include "models/runtime_spec.h"

namespace moesim {

// Where the GPU time of one instance went (seconds, per GPU, summed over steps).
struct TimeBreakdown {
  double compute_s = 0;  // kernels whose roofline is compute-bound (floor included)
  double memory_s = 0;   // kernels whose roofline is memory-bound (floor included)
  double launch_s = 0;   // GPU idle waiting for a kernel launch / graph-node overhead
  double host_s = 0;     // GPU idle while the host does per-step CPU work
  double comm_s = 0;     // collectives
  std::array<double, 4> comm_tier_s{};  // comm_s split by the tier of each collective's bottleneck
  std::array<double, 4> tier_bytes{};   // payload bytes x links crossed, per tier (whole instance)
  double flops = 0;                     // per GPU
  double hbm_bytes = 0;                 // per GPU
  int64_t kernels = 0;

  double Busy() const { return compute_s + memory_s + comm_s; }
  double Total() const { return compute_s + memory_s + launch_s + host_s + comm_s; }
  void Add(const TimeBreakdown& o);
  // Scales the per-GPU quantities (times, flops, HBM bytes) — e.g. to average pipeline stages;
  // tier_bytes (whole-instance totals) and kernel counts are left as they are.
  void Scale(double f);
};

class LaunchPipeline {
 public:
  explicit LaunchPipeline(const RuntimeSpec& runtime) : runtime_(runtime) {}

  // Starts a step at `now_s` with `running_seqs` sequences in the batch. `host_work`: whether
  // this GPU's step begins with the host's per-step CPU work (only a pipeline's first stage).
  void BeginStep(double now_s, int64_t running_seqs, bool host_work = true);
  // Places a kernel of known duration; returns its GPU end time.
  double Kernel(const KernelTime& t, const Op& op);
  // For collectives whose duration SimGrid decides: the GPU start time of the next op...
  double NextStart();
  // ...and, once SimGrid has run it, its end time, bottleneck tier and per-tier bytes.
  void CollectiveDone(double end_s, int bottleneck_tier = 0,
                      const std::array<double, 4>& tier_bytes = {});
  // End of the step's GPU work.
  double gpu_free_s() const { return gpu_free_s_; }

  const TimeBreakdown& breakdown() const { return breakdown_; }
  void ResetBreakdown() { breakdown_ = TimeBreakdown(); }
  // Adds a transfer outside the kernel stream (a pipeline-stage send) to the breakdown.
  void AddTransfer(double seconds, int tier, const std::array<double, 4>& tier_bytes);

 private:
  double Issue();  // issue time of the next op; advances the CPU
  void Place(double start_s);

  RuntimeSpec runtime_;  // a copy: the pipeline outlives no one's spec
  double cpu_s_ = 0;
  double gpu_free_s_ = 0;
  bool first_in_step_ = true;
  double pending_start_s_ = 0;
  TimeBreakdown breakdown_;
};

}  // namespace moesim
