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
};

class StepActivitySink {
 public:
  virtual ~StepActivitySink() = default;
  virtual void OnActivity(const StepActivity& activity) = 0;
};

}  // namespace moesim
