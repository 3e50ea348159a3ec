#include "engine/step_runner.h"

#include <algorithm>
#include <memory>

#include "engine/analytic_fabric.h"
#include "engine/collective_merger.h"
#include "engine/step_costs.h"

namespace moesim {

StepRunner::StepRunner(const RuntimeSpec& runtime, const GpuSpec& gpu, int groups)
    : runtime_(runtime),
      gpu_(gpu),
      cost_(gpu_, runtime_),
      second_gpu_(gpu),
      second_cost_(second_gpu_, runtime_),
      pipes_(groups, LaunchPipeline(runtime_, gpu_)) {}

StepRunner::StepRunner(const RuntimeSpec& runtime, const GpuSpec& gpu, int groups,
                       const GpuSpec& second, int second_from)
    : runtime_(runtime),
      gpu_(gpu),
      cost_(gpu_, runtime_),
      second_gpu_(second),
      second_cost_(second_gpu_, runtime_),
      second_from_(second_from) {
  for (int g = 0; g < groups; ++g) {
    pipes_.emplace_back(runtime_, g >= second_from ? second_gpu_ : gpu_);
  }
}

namespace {

// Per-node state of one walk.
struct NodeState {
  double start_s = 0;  // transfers in flight: when they started (traces)
  double end_s = 0;
  int tier = 0;  // the bottleneck tier a wait for this node is charged to
  std::unique_ptr<PendingTransfer> pending;
};

// One walk of a graph: the per-node and per-group state, and one method per node kind.
class StepWalk {
 public:
  // Groups from `second_from` on (when >= 0) time their programs with `second`.
  StepWalk(const StepGraph& g, Fabric& fabric, const KernelCostModel& cost,
           const KernelCostModel& second, int second_from, std::vector<LaunchPipeline>& pipes,
           StepActivitySink* sink)
      : g_(g),
        fabric_(fabric),
        pipes_(pipes),
        sink_(sink),
        state_(g.nodes.size()),
        last_node_(g.groups.size(), -1),
        begun_(g.groups.size(), false),
        group_begin_(g.groups.size(), 0.0),
        group_end_(g.groups.size(), 0.0),
        kernel_activities_(fabric.KernelActivities()),
        graphed_runs_(g.launch == StepLaunch::kFullGraph && !kernel_activities_) {
    timing_.start_s = fabric.Now();
    // Each group's last stream node, scanning back until every group that has one is found.
    size_t found = 0;
    for (size_t i = g.nodes.size(); i-- > 0 && found < g.groups.size();) {
      const StepNode& n = g.nodes[i];
      if (n.kind == StepNode::Kind::kTransfer) continue;
      for (int gi = n.group; gi < n.group + n.groups; ++gi) {
        if (last_node_[gi] < 0) {
          last_node_[gi] = int(i);
          ++found;
        }
      }
    }
    // A program runs on groups of one GPU type (the graph's builder keeps them apart).
    std::vector<bool> on_second(g.programs.size(), false);
    if (second_from >= 0) {
      for (const StepNode& n : g.nodes) {
        if (n.kind != StepNode::Kind::kCompute) continue;
        for (int k = 0; k < n.groups; ++k) {
          if (n.group + k >= second_from) on_second[g.ProgramOf(n, k)] = true;
        }
      }
    }
    costs_.reserve(g.programs.size());
    for (size_t p = 0; p < g.programs.size(); ++p) {
      costs_.emplace_back(g.programs[p], on_second[p] ? second : cost);
    }
  }

  StepTiming Run() {
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (g_.nodes[i].kind == StepNode::Kind::kTransfer) {
        Transfer(int(i));
      } else {
        StreamNode(int(i));
      }
    }
    return Finish();
  }

 private:
  // The end of node `d`, waiting for it first if it is a transfer still in flight.
  void Settle(int d) {
    NodeState& s = state_[d];
    if (!s.pending) return;
    const CollectiveCost c = fabric_.Finish(*s.pending);
    s.pending.reset();
    s.end_s = fabric_.Now();
    s.tier = static_cast<int>(c.bottleneck_tier);
    AddBytes(timing_.transfer_tier_bytes, c);
    Report(g_.nodes[d], c, s.start_s, s.end_s);
  }
  // A communication activity of node `n` to the sink, if any.
  void Report(const StepNode& n, const CollectiveCost& c, double start, double end) {
    if (sink_ == nullptr) return;
    StepActivity a;
    if (n.kind == StepNode::Kind::kTransfer) {
      const StepTransfer& t = g_.transfer(n);
      a.kind = StepActivity::Kind::kTransfer;
      a.name = t.name;
      a.first_gpu = !t.wire.empty() ? t.wire[0].src_gpu : g_.groups[0].gpus[0];
    } else {
      a.kind = StepActivity::Kind::kCollective;
      a.name = n.name;
      a.first_gpu = g_.groups[n.group].gpus[0];
    }
    a.tier = static_cast<int>(c.bottleneck_tier);
    a.start_s = start;
    a.end_s = end;
    for (double b : c.tier_bytes) a.bytes += b;
    sink_->OnActivity(a);
  }
  // Latest end among the dependencies, and the tier of the one that ends last.
  double Ready(const StepNode& node, int* tier) {
    double t = 0;
    for (int d : node.deps) {
      Settle(d);
      if (state_[d].end_s >= t) {
        t = state_[d].end_s;
        *tier = state_[d].tier;
      }
    }
    return t;
  }
  static void AddBytes(std::array<double, 4>& to, const CollectiveCost& c) {
    for (int t = 0; t < 4; ++t) to[t] += c.tier_bytes[t];
  }

  void Transfer(int i) {
    const StepNode& node = g_.nodes[i];
    const StepTransfer& t = g_.transfer(node);
    int tier = 0;
    const double start = Ready(node, &tier);
    for (int h : t.hold_groups) {
      pipes_[h].Hold(start, t.hold_s, static_cast<int>(t.cost.bottleneck_tier));
    }
    for (int h : t.host_sync_groups) {
      if (begun_[h]) pipes_[h].HostSync(start);
    }
    NodeState& s = state_[i];
    if (t.blocking) {
      BlockingTransfer(node, start, &s);
    } else if (fabric_.Analytic() || t.cost.seconds <= 0) {
      s.end_s = start + t.cost.seconds;
      s.tier = static_cast<int>(t.cost.bottleneck_tier);
      AddBytes(timing_.transfer_tier_bytes, t.cost);
      if (t.cost.seconds > 0) Report(node, t.cost, start, s.end_s);
    } else {
      s.start_s = start;
      s.pending = fabric_.StartTransfer(t.gpus, t.cost, t.wire, start);
    }
  }

  // A pipeline send: the lane waits for it (on SimGrid it shares links with others).
  void BlockingTransfer(const StepNode& node, double start, NodeState* s) {
    fabric_.SleepUntil(start);
    const double t0 = fabric_.Now();
    CollectiveCost c;
    if (fabric_.Analytic()) {
      c = node.pattern->Estimate(node.message_bytes, node.launch_us);
      fabric_.SleepUntil(t0 + c.seconds);
    } else {
      c = fabric_.RunCollective(*node.pattern, node.message_bytes, node.launch_us);
    }
    const double elapsed = fabric_.Now() - t0;
    Report(node, c, t0, fabric_.Now());
    timing_.blocking.comm_s += elapsed;
    timing_.blocking.comm_tier_s[static_cast<int>(c.bottleneck_tier)] += elapsed;
    AddBytes(timing_.blocking.tier_bytes, c);
    s->end_s = fabric_.Now();
    s->tier = static_cast<int>(c.bottleneck_tier);
  }

  // A compute or collective node on its groups' streams.
  void StreamNode(int i) {
    const StepNode& node = g_.nodes[i];
    int tier = 0;
    bool ready_known = false;
    double ready = 0;
    double end = 0;
    for (int k = 0; k < node.groups; ++k) {
      const int gi = node.group + k;
      const StepGroup& group = g_.groups[gi];
      LaunchPipeline& pipe = pipes_[gi];
      if (!begun_[gi]) {
        if (group.resource >= 0) fabric_.Acquire(group.resource);
        pipe.ResetBreakdown();
        group_begin_[gi] = group.begins_with_graph ? timing_.start_s : fabric_.Now();
        pipe.BeginStep(group_begin_[gi], group.running_seqs, group.host_work, g_.launch);
        begun_[gi] = true;
      }
      if (!ready_known) {  // after the first group begins: a lane acquires its group first
        ready = Ready(node, &tier);
        ready_known = true;
      }
      pipe.WaitUntil(ready, tier);
      if (node.kind == StepNode::Kind::kCompute) {
        Compute(node, g_.ProgramOf(node, k), group, pipe);
      } else {
        Collective(node, pipe);
      }
      end = std::max(end, pipe.gpu_free_s());
      if (last_node_[gi] == i) {
        group_end_[gi] = pipe.gpu_free_s();
        fabric_.SleepUntil(pipe.gpu_free_s());
        pipe.EndStep();
        if (group.resource >= 0) fabric_.Release(group.resource);
      }
    }
    state_[i].end_s = end;
  }

  // Ops [begin, end) of the node's program (`program`: the group's): kernel by kernel, or, in a
  // full graph without kernel activities, a block's run at a time (the same times:
  // LaunchPipeline::GraphedRun).
  void Compute(const StepNode& node, int program, const StepGroup& group, LaunchPipeline& pipe) {
    const StepProgram& prog = g_.programs[program];
    StepCosts& pc = costs_[program];
    for (int oi = node.begin.order; oi <= node.end.order; ++oi) {
      if (oi >= static_cast<int>(prog.order.size())) break;
      const int block = prog.order[oi];
      const std::vector<Op>& ops = prog.blocks[block];
      const int first = oi == node.begin.order ? node.begin.op : 0;
      const int size = static_cast<int>(ops.size());
      const int end = oi == node.end.order ? std::min(node.end.op, size) : size;
      if (first >= end) continue;
      if (graphed_runs_) {
        pipe.GraphedRun(pc.Run(block, first, end));
        continue;
      }
      for (int i = first; i < end; ++i) {
        const KernelTime& t = pc.Kernel(block, i);
        const double kernel_end = pipe.Kernel(t, ops[i]);
        if (kernel_activities_) {
          fabric_.RunKernel(group.gpus, kernel_end - t.seconds, kernel_end);
          if (sink_ != nullptr) {
            StepActivity a;
            a.name = ops[i].name;
            a.first_gpu = group.gpus[0];
            a.start_s = kernel_end - t.seconds;
            a.end_s = kernel_end;
            sink_->OnActivity(a);
          }
        }
      }
    }
  }

  // An in-stream collective: it starts when the stream reaches it; the stream waits for it.
  void Collective(const StepNode& node, LaunchPipeline& pipe) {
    const double start = pipe.NextStart();
    if (node.pattern == nullptr) {
      pipe.CollectiveDone(start);
    } else if (fabric_.Analytic()) {
      const CollectiveCost& c =
          collective_memo_.Cost(*node.pattern, node.message_bytes, node.launch_us);
      pipe.CollectiveDone(start + c.seconds, static_cast<int>(c.bottleneck_tier), c.tier_bytes);
      Report(node, c, start, start + c.seconds);
    } else {
      fabric_.SleepUntil(start);
      const CollectiveCost c =
          fabric_.RunCollective(*node.pattern, node.message_bytes, node.launch_us);
      pipe.CollectiveDone(fabric_.Now(), static_cast<int>(c.bottleneck_tier), c.tier_bytes);
      Report(node, c, start, fabric_.Now());
    }
  }

  // Waits for every transfer still in flight; collects the groups' breakdowns.
  StepTiming Finish() {
    double end = fabric_.Now();
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      Settle(int(i));
      end = std::max(end, state_[i].end_s);
    }
    fabric_.SleepUntil(end);
    timing_.end_s = fabric_.Now();
    timing_.groups.reserve(g_.groups.size());
    for (size_t gi = 0; gi < g_.groups.size(); ++gi) {
      timing_.groups.push_back(begun_[gi] ? pipes_[gi].breakdown() : TimeBreakdown());
      timing_.group_span_s.push_back(group_end_[gi] - group_begin_[gi]);
    }
    return std::move(timing_);
  }

  const StepGraph& g_;
  Fabric& fabric_;
  std::vector<LaunchPipeline>& pipes_;
  StepActivitySink* sink_;
  std::vector<StepCosts> costs_;
  CollectiveMemo collective_memo_;
  std::vector<NodeState> state_;
  std::vector<int> last_node_;  // per group: its last stream node
  std::vector<bool> begun_;
  std::vector<double> group_begin_, group_end_;
  const bool kernel_activities_;  // the fabric runs every kernel as an activity
  const bool graphed_runs_;       // kernels placed a block's run at a time
  StepTiming timing_;
};

}  // namespace

StepTiming StepRunner::Run(const StepGraph& g, Fabric& fabric) {
  if (sink_ == nullptr || !sink_->MergesCollectives()) {
    return StepWalk(g, fabric, cost_, second_cost_, second_from_, pipes_, sink_).Run();
  }
  CollectiveMerger merger(sink_);
  StepTiming timing = StepWalk(g, fabric, cost_, second_cost_, second_from_, pipes_, &merger).Run();
  merger.Flush();
  return timing;
}

namespace {

// The second of two runs on an idle fabric (an overlapping host hides behind the first).
StepTiming SteadyState(StepRunner& runner, const StepGraph& graph) {
  AnalyticFabric fabric;
  runner.Run(graph, fabric);
  return runner.Run(graph, fabric);
}

}  // namespace

StepTiming StepRunner::Estimate(const StepGraph& graph, const RuntimeSpec& runtime,
                                const GpuSpec& gpu) {
  StepRunner runner(runtime, gpu, static_cast<int>(graph.groups.size()));
  return SteadyState(runner, graph);
}

StepTiming StepRunner::Estimate(const StepGraph& graph, const RuntimeSpec& runtime,
                                const GpuSpec& gpu, const GpuSpec& second, int second_from) {
  StepRunner runner(runtime, gpu, static_cast<int>(graph.groups.size()), second, second_from);
  return SteadyState(runner, graph);
}

}  // namespace moesim
