// When each kernel of a step runs on the GPU, given how the host launches it.
//
// Every step begins with the host's per-step CPU work (scheduling, input preparation, sampling
// bookkeeping: RuntimeSpec::HostStepSeconds, with the constants of the execution mode). A stack
// whose host overlaps the GPU (vLLM async scheduling, SGLang / TensorRT-LLM overlap schedulers)
// did that work while the GPU ran the previous step, in the time the CPU was free after its last
// launch: the GPU waits only for the part that window did not cover (all of it when eager
// launches kept the CPU busy to the end, nothing when a graph replay freed it at once).
// Otherwise the GPU idles for all of it.
//
// Then the step's kernels are launched in one of three ways (ChooseLaunch):
//  * full graph: one replay is issued after graph_launch; every node runs back to back with the
//    GPU's graph_node gap added;
//  * piecewise (vLLM mixed batches): the ops between attention layers are graph pieces, each a
//    replay issued for graph_launch; attention kernels are launched eagerly;
//  * eager: the CPU issues one kernel every eager_launch_gap; the GPU starts a kernel at
//    max(its issue time, end of the previous kernel), so long kernels let the CPU run ahead and
//    short ones leave the GPU idle between launches (seed 000's ~33 µs gaps).
// An op that stands for several kernels (Op::kernels) is launched as that many equal kernels.
// The step ends when the last kernel ends (the host waits for sampled tokens).
//
// Every fidelity level drives this same recurrence, so they agree exactly on an isolated
// instance; they differ in which durations come from SimGrid activities. Times are absolute
// simulated seconds.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "models/decode_step.h"
#include "models/gpu_spec.h"
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
  // DCGM-comparable activity (report.h): kernel time beyond each kernel's fixed cost (SMs
  // streaming or computing), and tensor-core FLOPs as seconds at the dense bf16 peak.
  double sm_active_s = 0;
  double tensor_active_s = 0;

  double Busy() const { return compute_s + memory_s + comm_s; }
  double Total() const { return compute_s + memory_s + launch_s + host_s + comm_s; }
  void Add(const TimeBreakdown& o);
  // Scales the per-GPU quantities (times, flops, HBM bytes) — e.g. to average pipeline stages;
  // tier_bytes (whole-instance totals) and kernel counts are left as they are.
  void Scale(double f);
};

// How the kernels of one step are launched.
enum class StepLaunch { kFullGraph, kPiecewise, kEager };

// The stack's launch for a step of `batch`: a full CUDA graph for decode-only batches up to the
// capture cap, otherwise the stack's uncaptured launch (piecewise only up to the cap's tokens).
StepLaunch ChooseLaunch(const RuntimeSpec& runtime, const StepBatch& batch);
const char* StepLaunchName(StepLaunch l);

// Totals of a run of consecutive ops (StepCosts::Run), for placing it in one go in a full graph.
struct KernelRun {
  double seconds = 0;    // Σ kernel time
  int64_t kernels = 0;   // Σ kernels (Op::kernels, at least 1 per op)
  double compute_s = 0;  // Σ time of compute-bound kernels
  double memory_s = 0;   // Σ time of memory-bound kernels
  double flops = 0;
  double hbm_bytes = 0;
  double sm_active_s = 0;
  double tensor_flops = 0;  // Σ flops of GEMM, MoE and attention kernels

  void Add(const KernelTime& t, const Op& op);
};

class LaunchPipeline {
 public:
  LaunchPipeline(const RuntimeSpec& runtime, const GpuSpec& gpu)
      : runtime_(runtime),
        graph_node_s_(gpu.kernels.graph_node_us * 1e-6),
        bf16_peak_(gpu.PeakFlops(DType::kBf16)) {}

  // Starts a step at `now_s` with `running_seqs` sequences. `host_work`: whether this GPU's
  // step begins with the host's per-step CPU work (only a pipeline's first stage).
  void BeginStep(double now_s, int64_t running_seqs, bool host_work, StepLaunch launch);
  // Places a kernel of known duration; returns its GPU end time.
  double Kernel(const KernelTime& t, const Op& op);
  // Places a run of ops within a full-graph step (launch kFullGraph only): the same times and
  // breakdown as placing its kernels one by one — the replay was issued before the first, so
  // they run back to back — in constant time. Returns the GPU end time.
  double GraphedRun(const KernelRun& run);
  // For collectives whose duration SimGrid decides: the GPU start time of the next op...
  double NextStart();
  // ...and, once SimGrid has run it, its end time, bottleneck tier and per-tier bytes.
  void CollectiveDone(double end_s, int bottleneck_tier = 0,
                      const std::array<double, 4>& tier_bytes = {});
  // The stream waits for something outside it (a transfer it depends on) until `t`: the idle is
  // communication time charged to `tier`.
  void WaitUntil(double t, int tier);
  // Send / receive kernels of a transfer starting at `start_s` hold the stream's SMs for
  // `seconds` (communication time charged to `tier`).
  void Hold(double start_s, double seconds, int tier);
  // The host blocks until `t` (a CPU-GPU sync): no kernel after it is issued earlier.
  void HostSync(double t) { cpu_s_ = std::max(cpu_s_, t); }
  // Ends the step: remembers how long the CPU sat free while the GPU ran it after the last
  // launch (the window in which an overlapping host prepares the next step).
  void EndStep();
  // That window for the step just placed: GPU end minus the CPU's last launch.
  double IdleCpuSeconds() const { return std::max(0.0, gpu_free_s_ - cpu_s_); }
  // For analytic estimates of a steady state: the previous step left the CPU `idle_s` free.
  void AssumePreviousStep(double idle_s) {
    previous_idle_cpu_s_ = idle_s;
    previous_end_s_ = -1;
  }
  // End of the step's GPU work.
  double gpu_free_s() const { return gpu_free_s_; }

  const TimeBreakdown& breakdown() const { return breakdown_; }
  void ResetBreakdown() { breakdown_ = TimeBreakdown(); }

 private:
  double Issue(const Op& op);  // issue time of the next kernel of `op`; advances the CPU
  void Place(double start_s);

  RuntimeSpec runtime_;  // a copy: the pipeline outlives no one's spec
  double graph_node_s_ = 0;
  double bf16_peak_ = 0;
  StepLaunch launch_ = StepLaunch::kEager;
  double cpu_s_ = 0;
  double gpu_free_s_ = 0;
  double step_start_s_ = 0;
  bool first_in_step_ = true;
  bool in_piece_ = false;  // piecewise: a graph piece has been issued and not yet left
  double pending_start_s_ = 0;
  double previous_idle_cpu_s_ = 0;  // CPU time free during the previous step (overlapping host)
  double previous_end_s_ = -1;      // when it ended (-1: steady-state assumption)
  TimeBreakdown breakdown_;
};

}  // namespace moesim
