// What a step did, activity by activity, as the step runner (engine/step_runner.h) walks its
// graph: kernels (at `kernel` fidelity, where each kernel is its own event), in-stream
// collectives and transfers beside the streams, with their simulated start and end. A sink is
// optional (traces, engine/trace_recorder.h); without one the runner records nothing.
#pragma once

namespace moesim {

struct StepActivity {
  enum class Kind { kKernel, kCollective, kTransfer };
  Kind kind = Kind::kKernel;
  const char* name = "";  // the kernel's op, the collective's pattern or the transfer's role
  int first_gpu = 0;      // kernels and collectives: the group's first GPU; transfers: the source
  int tier = -1;          // the bottleneck link tier (LinkTier) of communication; -1 for kernels
  double start_s = 0;
  double end_s = 0;
  double bytes = 0;  // communication: payload bytes x links crossed, all tiers
  // Collectives merged into this one activity (engine/collective_merger.h): how many, and the
  // seconds they ran in all (0 for a single activity: end_s - start_s).
  int count = 1;
  double busy_s = 0;
};

class StepActivitySink {
 public:
  virtual ~StepActivitySink() = default;
  virtual void OnActivity(const StepActivity& activity) = 0;
  // True when the sink wants a step's collectives merged, one activity per (group, tier) per
  // step (engine/collective_merger.h), rather than each one.
  virtual bool MergesCollectives() const { return false; }
};

// The host-link tier's index (LinkTier::kHost in topology/cluster_graph.h, kept out of this
// header's includes).
inline constexpr int kHostLinkTier = 3;

// A KV copy between GPU `gpu` and its host tier (offload saves and loads, SSD I/O) of `bytes`
// over [start_s, end_s] to `sink`; nothing without a sink or bytes.
inline void ReportHostCopy(StepActivitySink* sink, const char* name, int gpu, double start_s,
                           double end_s, double bytes) {
  if (sink == nullptr || bytes <= 0) return;
  StepActivity a;
  a.kind = StepActivity::Kind::kTransfer;
  a.name = name;
  a.first_gpu = gpu;
  a.tier = kHostLinkTier;
  a.start_s = start_s;
  a.end_s = end_s;
  a.bytes = bytes;
  sink->OnActivity(a);
}

}  // namespace moesim
