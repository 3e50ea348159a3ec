// The step runner on the in-memory AnalyticFabric (no SimGrid, no fork): how a step graph turns
// into time. Hand-made graphs of elementwise ops on a GPU whose elementwise class is a plain
// 1 us + bytes at 1 TB/s, launched as one CUDA graph with no node gap.
#include "engine/step_runner.h"

#include <catch2/catch.hpp>
#include <utility>

#include "../support/cluster_fixtures.h"
#include "engine/analytic_fabric.h"
#include "engine/step_costs.h"
#include "topology/cluster_graph.h"

namespace moesim {
namespace {

GpuSpec Gpu() {
  GpuSpec g;
  g.bf16_tflops = 1000;
  g.hbm_tb_per_s = 1.0;
  g.kernels.elementwise.fixed_us = 1;
  g.kernels.elementwise.hbm_efficiency = 1;
  return g;
}

RuntimeSpec Runtime() {
  RuntimeSpec r;
  r.mode = ExecutionMode::kCudaGraph;
  r.graph_launch_us = 0;
  r.graph_host_step_us = 10;
  r.cuda_graph_max_batch = 8;
  return r;
}

// A program of `n` elementwise ops of `us` microseconds each (1 us fixed + bytes).
StepProgram Ops(int n, double us) {
  StepProgram p;
  p.blocks.emplace_back();
  for (int i = 0; i < n; ++i) {
    Op op;
    op.name = "op";
    op.bytes = (us - 1) * 1e6;  // at 1 TB/s: (us - 1) microseconds
    p.blocks[0].push_back(op);
  }
  p.order.push_back(0);
  return p;
}

StepNode Compute(int group, int program, int ops) {
  StepNode n;
  n.kind = StepNode::Kind::kCompute;
  n.group = group;
  n.program = program;
  n.begin = {0, 0};
  n.end = {0, ops};
  return n;
}

StepGraph TwoGroups() {
  StepGraph g;
  g.launch = StepLaunch::kFullGraph;
  g.groups.resize(2);
  return g;
}

TEST_CASE("runner: a group's nodes run back to back after its host work", "[runner]") {
  StepGraph g = TwoGroups();
  g.groups.resize(1);
  const int p = g.AddProgram(Ops(3, 5));
  g.AddNode(Compute(0, p, 2));
  StepNode second = Compute(0, p, 3);
  second.begin = {0, 2};
  g.AddNode(std::move(second));
  StepRunner runner(Runtime(), Gpu(), 1);
  AnalyticFabric fabric(1.0);
  const StepTiming t = runner.Run(g, fabric);
  CHECK((t.end_s - 1.0) * 1e6 == Approx(10 + 3 * 5));  // host, then three 5-us kernels
  CHECK(t.groups[0].host_s * 1e6 == Approx(10));
  CHECK(fabric.Now() == t.end_s);
}

TEST_CASE(
    "runner: a transfer waits for all its dependencies (a barrier); the wait for it is "
    "communication of its bottleneck tier",
    "[runner]") {
  StepGraph g = TwoGroups();
  const int fast = g.AddProgram(Ops(1, 5));
  const int slow = g.AddProgram(Ops(1, 30));
  const int a = g.AddNode(Compute(0, fast, 1));  // ends at 15 us
  const int b = g.AddNode(Compute(1, slow, 1));  // ends at 40 us
  StepNode n;
  n.deps = {a, b};
  StepTransfer t;
  t.cost.seconds = 20e-6;
  t.cost.bottleneck_tier = LinkTier::kScaleOut;
  t.cost.tier_bytes[1] = 1e6;
  const int x = g.AddTransfer(std::move(n), std::move(t));
  StepNode after = Compute(0, fast, 1);
  after.deps = {x};
  g.AddNode(std::move(after));
  StepRunner runner(Runtime(), Gpu(), 2);
  AnalyticFabric fabric;
  const StepTiming timing = runner.Run(g, fabric);
  // The transfer starts at 40 us and ends at 60 us; group 0 waits 45 us, then runs 5 us.
  CHECK(timing.end_s * 1e6 == Approx(65));
  CHECK(timing.groups[0].comm_s * 1e6 == Approx(45));
  CHECK(timing.groups[0].comm_tier_s[1] * 1e6 == Approx(45));
  CHECK(timing.transfer_tier_bytes[1] == 1e6);
}

TEST_CASE("runner: a transfer's send / receive kernels hold the streams it names", "[runner]") {
  StepGraph g = TwoGroups();
  g.groups.resize(1);
  const int p = g.AddProgram(Ops(2, 5));
  const int a = g.AddNode(Compute(0, p, 1));  // 10 -> 15 us
  StepNode n;
  n.deps = {a};
  StepTransfer t;
  t.cost.seconds = 50e-6;
  t.hold_groups = {0};
  t.hold_s = 3e-6;
  g.AddTransfer(std::move(n), std::move(t));
  StepNode other = Compute(0, p, 2);  // another micro-batch's kernel, not waiting for it
  other.begin = {0, 1};
  g.AddNode(std::move(other));
  StepRunner runner(Runtime(), Gpu(), 1);
  AnalyticFabric fabric;
  const StepTiming timing = runner.Run(g, fabric);
  CHECK(timing.groups[0].comm_s * 1e6 == Approx(3));  // the held SM time
  // The other kernel runs after the hold (15 + 3 -> 23 us); the step ends with the transfer.
  CHECK(timing.end_s * 1e6 == Approx(65));
}

TEST_CASE("runner: a host sync at a transfer stops the CPU launching past it early", "[runner]") {
  // Eager launches 2 us apart: two 20-us kernels, a zero-cost transfer at 40 us, then three
  // 1-us kernels. Without the sync the CPU issued those at 4, 6, 8 us and they run back to back
  // from 40 us; with it (DeepEP normal dispatch) they are issued at 40, 42, 44 us.
  RuntimeSpec eager = Runtime();
  eager.mode = ExecutionMode::kEager;
  eager.eager_host_step_us = 0;
  eager.eager_launch_gap_us = 2;
  for (bool sync : {false, true}) {
    StepGraph g = TwoGroups();
    g.launch = StepLaunch::kEager;
    g.groups.resize(1);
    const int slow = g.AddProgram(Ops(2, 20));
    const int fast = g.AddProgram(Ops(3, 1));
    const int a = g.AddNode(Compute(0, slow, 2));
    StepNode n;
    n.deps = {a};
    StepTransfer t;
    if (sync) t.host_sync_groups = {0};
    const int x = g.AddTransfer(std::move(n), std::move(t));
    StepNode b = Compute(0, fast, 3);
    b.deps = {x};
    g.AddNode(std::move(b));
    StepRunner runner(eager, Gpu(), 1);
    AnalyticFabric fabric;
    const StepTiming timing = runner.Run(g, fabric);
    CHECK(timing.end_s * 1e6 == Approx(sync ? 45 : 43));
  }
}

TEST_CASE("runner: Estimate is the steady state (an overlapping host hides its work)", "[runner]") {
  StepGraph g = TwoGroups();
  g.groups.resize(1);
  const int p = g.AddProgram(Ops(4, 5));
  g.AddNode(Compute(0, p, 4));
  RuntimeSpec serial = Runtime();
  RuntimeSpec overlap = Runtime();
  overlap.host_overlap = true;
  const StepTiming a = StepRunner::Estimate(g, serial, Gpu());
  const StepTiming b = StepRunner::Estimate(g, overlap, Gpu());
  CHECK((a.end_s - a.start_s) * 1e6 == Approx(30));  // 10 us host + 20 us of kernels
  CHECK((b.end_s - b.start_s) * 1e6 == Approx(20));  // the host worked during the last step
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// CollectiveMemo (engine/step_costs.h) keeps an estimate per (pattern, message) until a link
// fault changes a link's capacity (ClusterGraph::capacity_version()).
TEST_CASE("runner: memoised collective costs are recomputed after a link's capacity changes",
          "[runner]") {
  ClusterSpec spec = testing::IdealCluster(8, 1, 2);
  auto graph = ClusterGraph::Build(spec);
  REQUIRE(graph.ok());
  std::vector<int> gpus(16);
  for (int i = 0; i < 16; ++i) gpus[i] = i;
  auto ring = CollectivePattern::RingAllReduce(*graph, gpus);
  REQUIRE(ring.ok());
  CollectiveMemo memo;
  const double healthy = memo.Cost(*ring, 64e6, 0).transfer_s;
  CHECK(memo.Cost(*ring, 64e6, 0).transfer_s == healthy);
  graph->SetUpShare(graph->RackUplink(0), 0.5);
  const double thinner = memo.Cost(*ring, 64e6, 0).transfer_s;
  CHECK(thinner > healthy);
  CHECK(thinner == Approx(ring->Estimate(64e6, 0).transfer_s));
}

}  // namespace
}  // namespace moesim
