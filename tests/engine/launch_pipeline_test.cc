// The launch pipeline: eager launch gaps, CUDA-graph replay, piecewise graphs, host overhead
// (serial or overlapped with the previous step), collectives, and the stack's choice of launch.
#include "engine/launch_pipeline.h"

#include <catch2/catch.hpp>

namespace moesim {
namespace {

RuntimeSpec Runtime(ExecutionMode mode) {
  RuntimeSpec r;
  r.mode = mode;
  r.eager_launch_gap_us = 33;
  r.graph_launch_us = 8;
  r.eager_host_step_us = 100;
  r.eager_host_per_seq_us = 1;
  r.graph_host_step_us = 100;
  r.graph_host_per_seq_us = 1;
  r.cuda_graph_max_batch = 64;
  return r;
}

GpuSpec Gpu(double graph_node_us = 1.5) {
  GpuSpec g;
  g.bf16_tflops = 1000;
  g.kernels.graph_node_us = graph_node_us;
  return g;
}

KernelTime Kt(double us, Bound b = Bound::kMemory) {
  KernelTime t;
  t.seconds = us * 1e-6;
  t.bound = b;
  return t;
}

TEST_CASE("eager: short kernels leave the GPU idle for the launch gap", "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kEager), Gpu());
  p.BeginStep(0.0, 10, true, StepLaunch::kEager);  // host: 100 + 10 × 1 = 110 us
  const Op op;
  for (int i = 0; i < 3; ++i) p.Kernel(Kt(2), op);
  // Kernels issued at 110, 143, 176 us; each runs 2 us.
  CHECK(p.gpu_free_s() * 1e6 == Approx(178));
  CHECK(p.breakdown().host_s * 1e6 == Approx(110));
  CHECK(p.breakdown().launch_s * 1e6 == Approx(2 * 31));
  CHECK(p.breakdown().memory_s * 1e6 == Approx(6));
  CHECK(p.breakdown().Total() * 1e6 == Approx(178));
}

TEST_CASE("eager: an op of several kernels is launched as that many", "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kEager), Gpu());
  p.BeginStep(0.0, 0, true, StepLaunch::kEager);  // host 100 us
  Op op;
  op.kernels = 2;       // e.g. an activation quant and its GEMM
  p.Kernel(Kt(4), op);  // two 2-us kernels issued at 100 and 133 us
  CHECK(p.gpu_free_s() * 1e6 == Approx(135));
  CHECK(p.breakdown().kernels == 2);
}

TEST_CASE("eager: a long kernel lets the CPU run ahead; the queue drains back to back",
          "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kEager), Gpu());
  p.BeginStep(0.0, 0, true, StepLaunch::kEager);  // host 100 us
  const Op op;
  p.Kernel(Kt(200, Bound::kCompute), op);  // 100 -> 300
  p.Kernel(Kt(2), op);                     // issued 133, starts 300 -> 302
  p.Kernel(Kt(2), op);                     // issued 166, starts 302 -> 304
  CHECK(p.gpu_free_s() * 1e6 == Approx(304));
  CHECK(p.breakdown().launch_s == Approx(0).margin(1e-12));
  CHECK(p.breakdown().compute_s * 1e6 == Approx(200));
}

TEST_CASE("CUDA graph: one replay launch, then nodes back to back with the GPU's node gap",
          "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kCudaGraph), Gpu(1.5));
  p.BeginStep(1.0, 0, true, StepLaunch::kFullGraph);  // host 100 us + graph launch 8 us
  const Op op;
  for (int i = 0; i < 4; ++i) p.Kernel(Kt(10), op);
  CHECK((p.gpu_free_s() - 1.0) * 1e6 == Approx(108 + 4 * 11.5));
  CHECK(p.breakdown().launch_s * 1e6 == Approx(4 * 1.5));
  CHECK(p.breakdown().host_s * 1e6 == Approx(108));
}

TEST_CASE("piecewise: graph pieces between eager attention kernels", "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kCudaGraph), Gpu(0.0));
  p.BeginStep(0.0, 0, true, StepLaunch::kPiecewise);  // host 100 us
  Op gemm;
  gemm.cls = OpClass::kGemm;
  Op attention;
  attention.cls = OpClass::kAttention;
  p.Kernel(Kt(10), gemm);       // piece 1 replayed at 108: 108 -> 118
  p.Kernel(Kt(10), gemm);       // same piece: 118 -> 128
  p.Kernel(Kt(10), attention);  // eager, issued at 108 (CPU), runs 128 -> 138
  p.Kernel(Kt(10), gemm);       // piece 2: replay issued at 141 + 8 = 149: 149 -> 159
  CHECK(p.gpu_free_s() * 1e6 == Approx(159));
}

TEST_CASE("overlapping host: the CPU's free time in the previous step hides the host work",
          "[launch]") {
  RuntimeSpec r = Runtime(ExecutionMode::kCudaGraph);
  r.host_overlap = true;
  LaunchPipeline p(r, Gpu(0.0));
  const Op op;
  p.BeginStep(0.0, 0, true, StepLaunch::kFullGraph);  // nothing before: host 100 us exposed
  p.Kernel(Kt(200), op);
  CHECK(p.gpu_free_s() * 1e6 == Approx(308));  // 100 + 8 + 200
  p.EndStep();  // the CPU was free from 108 us (the replay) to 308 us: 200 us
  // The next step starts where the last ended; that window hid all 100 us of host work.
  p.ResetBreakdown();
  p.BeginStep(p.gpu_free_s(), 0, true, StepLaunch::kFullGraph);
  p.Kernel(Kt(60), op);
  CHECK(p.breakdown().host_s * 1e6 == Approx(8));  // only the graph launch
  p.EndStep();                                     // this step left the CPU free for 60 us only
  // A window shorter than the host work hides part of it: 100 - 60 = 40 us exposed.
  p.ResetBreakdown();
  p.BeginStep(p.gpu_free_s(), 0, true, StepLaunch::kFullGraph);
  p.Kernel(Kt(60), op);
  CHECK(p.breakdown().host_s * 1e6 == Approx(48));
  p.EndStep();
  // After an idle gap nothing was prepared in advance: the host work is exposed again.
  p.ResetBreakdown();
  p.BeginStep(1.0, 0, true, StepLaunch::kFullGraph);
  p.Kernel(Kt(60), op);
  CHECK(p.breakdown().host_s * 1e6 == Approx(108));
}

TEST_CASE("overlapping host under eager launches: the CPU is busy launching, nothing is hidden",
          "[launch]") {
  RuntimeSpec r = Runtime(ExecutionMode::kEager);
  r.host_overlap = true;
  LaunchPipeline p(r, Gpu(0.0));
  const Op op;
  p.BeginStep(0.0, 0, true, StepLaunch::kEager);
  for (int i = 0; i < 10; ++i) p.Kernel(Kt(2), op);  // launch-bound: last issue at 100 + 297
  p.EndStep();
  CHECK(p.IdleCpuSeconds() == Approx(0).margin(1e-12));
  p.ResetBreakdown();
  p.BeginStep(p.gpu_free_s(), 0, true, StepLaunch::kEager);
  p.Kernel(Kt(2), op);
  CHECK(p.breakdown().host_s * 1e6 == Approx(100));
}

TEST_CASE("serial host: the host work is paid in full every step", "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kCudaGraph), Gpu(0.0));
  const Op op;
  p.BeginStep(0.0, 0, true, StepLaunch::kFullGraph);
  p.Kernel(Kt(60), op);
  p.EndStep();
  p.ResetBreakdown();
  p.BeginStep(p.gpu_free_s(), 0, true, StepLaunch::kFullGraph);
  p.Kernel(Kt(60), op);
  CHECK(p.breakdown().host_s * 1e6 == Approx(108));
}

TEST_CASE("the stack's launch: full graphs for decode batches up to the cap", "[launch]") {
  RuntimeSpec r = Runtime(ExecutionMode::kCudaGraph);
  StepBatch decode;
  decode.decode_seqs = 64;
  CHECK(ChooseLaunch(r, decode) == StepLaunch::kFullGraph);
  decode.decode_seqs = 65;  // above the capture cap
  CHECK(ChooseLaunch(r, decode) == StepLaunch::kEager);
  StepBatch mixed;
  mixed.decode_seqs = 10;
  mixed.prefill_tokens = 20;
  CHECK(ChooseLaunch(r, mixed) == StepLaunch::kEager);
  r.uncaptured_launch = UncapturedLaunch::kPiecewise;  // vLLM FULL_AND_PIECEWISE
  CHECK(ChooseLaunch(r, mixed) == StepLaunch::kPiecewise);
  mixed.prefill_tokens = 2000;  // more tokens than any captured piece
  CHECK(ChooseLaunch(r, mixed) == StepLaunch::kEager);
  CHECK(ChooseLaunch(Runtime(ExecutionMode::kEager), decode) == StepLaunch::kEager);
}

TEST_CASE("collectives start when issued and the GPU is free; their time is communication",
          "[launch]") {
  LaunchPipeline p(Runtime(ExecutionMode::kEager), Gpu());
  p.BeginStep(0.0, 0, true, StepLaunch::kEager);
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
