// Reference test: the kernel cost model with every efficiency set to 1 reproduces the roofline
// of seed 001 (../shared/reference/seeds/001_55354da6adc53666.txt): DeepSeek-V3 FP8 MoE layer on
// B200, 32 local experts, top-8, hidden 7168, intermediate 2048, 4500 TFLOP/s FP8 and 8 TB/s.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/preset_fixtures.h"
#include "models/decode_step.h"
#include "models/kernel_cost.h"
#include "models/preset_library.h"

namespace moesim {
namespace {

struct Fixture {
  Fixture() {
    model = testing::ModelPreset("DeepSeek-V3");
    gpu = testing::GpuPreset("B200");
    // Seed 001's hardware table: 4500 TFLOP/s dense FP8, 8 TB/s; ideal efficiencies, no floor.
    gpu.fp8_tflops = 4500;
    gpu.hbm_tb_per_s = 8.0;
    MoeClass ideal;
    ideal.hbm_efficiency = 1.0;
    ideal.mfu_vs_rows = EfficiencyCurve({{1.0, 1.0}});
    gpu.kernels.moe_fp8 = ideal;
    gpu.kernels.elementwise.fixed_us = 0.0;
  }
  // The fused MoE block of one rank: T tokens, 8 assignments each, all 32 local experts read.
  Op Block(double tokens) const {
    const ExpertBlockWork w = ExpertBlock(model, tokens, 8 * tokens, 32, 1.0);
    Op op;
    op.cls = OpClass::kMoe;
    op.math_dtype = DType::kFp8;
    op.format = GemmFormat::kFp8Block;
    op.flops = w.flops;
    op.bytes = w.weight_bytes + w.activation_bytes;
    op.gemm_rows = 8 * tokens / 32;
    return op;
  }
  ModelSpec model;
  GpuSpec gpu;
};

TEST_CASE("seed 001: per-token FLOPs and fixed weight bytes of the DeepSeek-V3 MoE layer",
          "[reference][seed001]") {
  Fixture f;
  const ExpertBlockWork one = ExpertBlock(f.model, 1, 8, 32, 1.0);
  // Seed 001: "FLOPs per token 704.6 MFLOP" (GEMM1 469.8 + GEMM2 234.9).
  CHECK(one.flops == Approx(704.6e6).epsilon(0.001));
  // Seed 001: "Weight bytes (fixed) 1.410 GB" (W1 + W2 fp8 + fp32 block scales).
  CHECK(one.weight_bytes == Approx(1.410e9).epsilon(0.01));
  // Seed 001: "Activation bytes per token 278.0 KB". Our count adds the bf16 input read and the
  // combined-output write to the four tensors the seed lists (285 KB): within 3%.
  CHECK(one.activation_bytes == Approx(278.0e3).epsilon(0.03));
}

TEST_CASE("seed 001: bandwidth/compute crossover at T ~ 1446", "[reference][seed001]") {
  Fixture f;
  const ExpertBlockWork one = ExpertBlock(f.model, 1, 8, 32, 1.0);
  const double peak = 4500e12, bw = 8e12;
  // max(flops/peak, bytes/bw) switches when T·f/peak = (W + T·a)/bw.
  const double t_cross = (one.weight_bytes / bw) / (one.flops / peak - one.activation_bytes / bw);
  CHECK(t_cross == Approx(1446).epsilon(0.01));
  // The cost model agrees on which side of the crossover each T lies.
  const KernelCostModel cost(f.gpu);
  CHECK(cost.Time(f.Block(901)).bound == Bound::kMemory);
  CHECK(cost.Time(f.Block(11948)).bound == Bound::kCompute);
}

TEST_CASE("seed 001: theoretical minimum time for every T in its table within 1%",
          "[reference][seed001]") {
  Fixture f;
  const KernelCostModel cost(f.gpu);
  // Seed 001 "Theoretical Minimum Time" table, microseconds.
  const std::pair<double, double> table[] = {{1, 176},   {7, 176},      {14, 177},
                                             {32, 177},  {55, 178},     {80, 179},
                                             {901, 208}, {11948, 1871}, {14107, 2209}};
  for (const auto& [tokens, us] : table) {
    INFO("T = " << tokens);
    CHECK(cost.Time(f.Block(tokens)).seconds * 1e6 == Approx(us).epsilon(0.01));
  }
}

}  // namespace
}  // namespace moesim
