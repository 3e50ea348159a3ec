// The launch pipeline: eager launch gaps, CUDA-graph replay, host overhead, collectives.
#include "engine/launch_pipeline.h"

#include <catch2/catch.hpp>

namespace moesim {
namespace {

RuntimeSpec Runtime(ExecutionMode mode) {
  RuntimeSpec r;
  r.mode = mode;
  r.eager_launch_gap_us = 33;
  r.graph_launch_us = 8;
  r.graph_node_us = 1.5;
  r.host_step_overhead_us = 100;
  r.host_per_seq_overhead_us = 1;
  return r;
}

KernelTime Kt(double us, Bound b = Bound::kMemory) {
  KernelTime t;
  t.seconds = us * 1e-6;
  t.bound = b;
  return t;
}

TEST_CASE("eager: short kernels leave the GPU idle for the launch gap", "[launch]") {
  const RuntimeSpec r = Runtime(ExecutionMode::kEager);
  LaunchPipeline p(r);
  p.BeginStep(0.0, 10);  // host: 100 + 10 × 1 = 110 us
  const Op op;
  for (int i = 0; i < 3; ++i) p.Kernel(Kt(2), op);
  // Kernels issued at 110, 143, 176 us; each runs 2 us.
  CHECK(p.gpu_free_s() * 1e6 == Approx(178));
  CHECK(p.breakdown().host_s * 1e6 == Approx(110));
  CHECK(p.breakdown().launch_s * 1e6 == Approx(2 * 31));
  CHECK(p.breakdown().memory_s * 1e6 == Approx(6));
  CHECK(p.breakdown().Total() * 1e6 == Approx(178));
}

TEST_CASE("eager: a long kernel lets the CPU run ahead; the queue drains back to back",
          "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kEager));
  p.BeginStep(0.0, 0);  // host 100 us
  const Op op;
  p.Kernel(Kt(200, Bound::kCompute), op);  // 100 -> 300
  p.Kernel(Kt(2), op);                     // issued 133, starts 300 -> 302
  p.Kernel(Kt(2), op);                     // issued 166, starts 302 -> 304
  CHECK(p.gpu_free_s() * 1e6 == Approx(304));
  CHECK(p.breakdown().launch_s == Approx(0).margin(1e-12));
  CHECK(p.breakdown().compute_s * 1e6 == Approx(200));
}

TEST_CASE("CUDA graph: one replay launch, then nodes back to back with a node cost", "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kCudaGraph));
  p.BeginStep(1.0, 0);  // host 100 us + graph launch 8 us
  const Op op;
  for (int i = 0; i < 4; ++i) p.Kernel(Kt(10), op);
  CHECK((p.gpu_free_s() - 1.0) * 1e6 == Approx(108 + 4 * 11.5));
  CHECK(p.breakdown().launch_s * 1e6 == Approx(4 * 1.5));
  CHECK(p.breakdown().host_s * 1e6 == Approx(108));
}

TEST_CASE("collectives start when issued and the GPU is free; their time is communication",
          "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kEager));
  p.BeginStep(0.0, 0);
  const Op op;
  p.Kernel(Kt(5), op);                 // 100 -> 105
  const double start = p.NextStart();  // issued at 133
  CHECK(start * 1e6 == Approx(133));
  p.CollectiveDone(start + 20e-6);
  CHECK(p.gpu_free_s() * 1e6 == Approx(153));
  CHECK(p.breakdown().comm_s * 1e6 == Approx(20));
  CHECK(p.breakdown().kernels == 2);
}

}  // namespace
}  // namespace moesim
