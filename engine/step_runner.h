// The one place that turns a step into time (engine/step_graph.h).
//
// The runner owns the launch model: every group of the graph has a launch pipeline
// (engine/launch_pipeline.h) that persists across the instance's steps (an overlapping host
// hides the next step's work behind the CPU's free time in the previous one). Walking the nodes
// in graph order it
//  * begins a group's step when the group's first node comes (acquiring the group's mutex when
//    lanes share it), with the host's per-step work and the step's launch (graph, piecewise,
//    eager);
//  * places compute nodes' kernels on the group's stream (each after its dependencies end: the
//    wait is communication time charged to the tier of the node waited for), running them as
//    SimGrid Execs at kernel fidelity;
//  * starts in-stream collectives when the stream reaches them and lets the stream wait;
//  * starts transfers when their dependencies end, holding the named groups' streams for the
//    send / receive kernels' SM time; blocking transfers (pipeline sends) make the lane wait,
//    others run beside the streams until a dependent needs them;
//  * ends a group's step when its last node has run (waiting, on SimGrid, for its stream).
// Communication costs come from the fabric (engine/fabric.h): SimGrid activities sharing links
// with every other instance, or closed-form costs. Run() uses the fabric it is given; Estimate()
// runs the same walk on an AnalyticFabric (no SimGrid), so the two agree exactly on an
// isolated instance.
#pragma once

#include <array>
#include <vector>

#include "engine/fabric.h"
#include "engine/launch_pipeline.h"
#include "engine/step_activity.h"
#include "engine/step_graph.h"
#include "models/gpu_spec.h"
#include "models/kernel_cost.h"
#include "models/runtime_spec.h"

namespace moesim {

struct StepTiming {
  double start_s = 0;
  double end_s = 0;
  std::vector<TimeBreakdown> groups;  // per group: its GPUs' time (per GPU of the group)
  std::vector<double> group_span_s;   // per group: from its step's begin to its stream's end
  // Blocking transfers (pipeline sends): the lane's communication time and their tier bytes.
  TimeBreakdown blocking;
  // Non-blocking transfers' payload bytes × links crossed, per tier.
  std::array<double, 4> transfer_tier_bytes{};
};

class StepRunner {
 public:
  StepRunner(const RuntimeSpec& runtime, const GpuSpec& gpu, int groups);
  // Groups [second_from, groups) run on `second` (the expert side of attention/FFN
  // disaggregation on its own GPU type); the others on `gpu`.
  StepRunner(const RuntimeSpec& runtime, const GpuSpec& gpu, int groups, const GpuSpec& second,
             int second_from);

  // Runs `graph` from fabric.Now(); returns when the step has ended (fabric.Now() == end_s).
  StepTiming Run(const StepGraph& graph, Fabric& fabric);
  // Where the walk reports its kernels, collectives and transfers (nullptr: nowhere); a sink
  // that MergesCollectives() gets each step's collectives merged (engine/collective_merger.h).
  void set_activity_sink(StepActivitySink* sink) { sink_ = sink; }

  // The steady state of repeating `graph` on an idle fabric: a fresh runner runs it twice on an
  // AnalyticFabric (the second time, an overlapping host's work hides behind the first's CPU
  // window) and returns the second step's timing.
  static StepTiming Estimate(const StepGraph& graph, const RuntimeSpec& runtime,
                             const GpuSpec& gpu);
  // The same with groups [second_from, ...) on `second`.
  static StepTiming Estimate(const StepGraph& graph, const RuntimeSpec& runtime, const GpuSpec& gpu,
                             const GpuSpec& second, int second_from);

 private:
  RuntimeSpec runtime_;
  GpuSpec gpu_;  // copies: a runner outlives no one's specs
  KernelCostModel cost_;
  GpuSpec second_gpu_;
  KernelCostModel second_cost_;
  int second_from_ = -1;  // first group on second_gpu_, or -1
  std::vector<LaunchPipeline> pipes_;
  StepActivitySink* sink_ = nullptr;
};

}  // namespace moesim
