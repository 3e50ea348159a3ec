// The memory plan: each stack's meaning of its memory fraction, the activation estimate, and
// linear-attention state pools (models/memory_plan.h).
#include "models/memory_plan.h"

#include <catch2/catch.hpp>

#include "../support/preset_fixtures.h"

namespace moesim {
namespace {

RuntimeSpec Runtime(MemoryFractionOf of, double fraction, double reserve_gb) {
  RuntimeSpec r;
  r.memory_fraction = fraction;
  r.memory_fraction_of = of;
  r.activation_reserve_gb = reserve_gb;
  r.kv_block_tokens = 16;
  r.max_num_seqs = 256;
  r.max_num_batched_tokens = 8192;
  return r;
}

TEST_CASE("memory fraction: of total, of weights + KV, of what weights and activations leave",
          "[memory_plan]") {
  ModelSpec m = testing::ModelPreset("Qwen3-30B-A3B");
  const GpuSpec gpu = testing::GpuPreset("H200");  // 151.398 GB
  const ParallelPlan plan;
  const KvFootprint fp(m, 1, 16);
  const double weights = WeightBytesPerGpu(m, plan);
  const double hbm = gpu.HbmBytes();

  auto total = PlanMemory(m, gpu, Runtime(MemoryFractionOf::kTotal, 0.9, 10), plan, fp, 1000);
  REQUIRE(total.ok());
  CHECK(total->kv_budget_bytes == Approx(0.9 * hbm - weights - 10e9));

  auto sglang =
      PlanMemory(m, gpu, Runtime(MemoryFractionOf::kWeightsAndKv, 0.9, 10), plan, fp, 1000);
  REQUIRE(sglang.ok());
  CHECK(sglang->reserve_bytes == 0);  // activations live outside the fraction
  CHECK(sglang->kv_budget_bytes == Approx(0.9 * hbm - weights));

  auto trt =
      PlanMemory(m, gpu, Runtime(MemoryFractionOf::kFreeAfterActivations, 0.9, 10), plan, fp, 1000);
  REQUIRE(trt.ok());
  CHECK(trt->kv_budget_bytes == Approx(0.9 * (hbm - weights - 10e9)));
}

TEST_CASE("activation estimate: hidden states, the larger intermediate, and the logits",
          "[memory_plan]") {
  const ModelSpec m = testing::ModelPreset("Qwen3-30B-A3B");
  RuntimeSpec r = Runtime(MemoryFractionOf::kTotal, 0.9, 0);
  // Qwen3-30B-A3B, 8192 tokens, 256 sequences: 2·8192·2048·2 B hidden states; the MoE
  // intermediate 8192·8·(3·768 + 2048)·2 B is the largest; logits 2·256·151936·4 B.
  const double expected =
      2.0 * 8192 * 2048 * 2 + 8192.0 * 8 * (3 * 768 + 2048) * 2 + 2.0 * 256 * 151936 * 4;
  CHECK(ActivationPeakBytes(m, r, ParallelPlan()) == Approx(expected));
}

TEST_CASE("SGLang hybrid model: a separate linear-state pool caps running requests",
          "[memory_plan]") {
  const ModelSpec m = testing::ModelPreset("Qwen3-Next-80B-A3B");
  const GpuSpec gpu = testing::GpuPreset("H200");
  ParallelPlan plan;
  plan.tp = 4;
  plan.ep = 1;
  RuntimeSpec r = Runtime(MemoryFractionOf::kWeightsAndKv, 0.88, 0);
  r.family = StackFamily::kSglang;
  r.linear_state_bytes = 4;
  const KvFootprint fp(m, 4, 1, 1, StateLayoutOf(r));
  auto mp = PlanMemory(m, gpu, r, plan, fp, 4000);
  REQUIRE(mp.ok());
  const double rest = 0.88 * gpu.HbmBytes() - WeightBytesPerGpu(m, plan);
  // docs/research/hybrid_amd_overlap.md §A.3: mamba budget = rest × 0.9 / 1.9; 19.3 MB per
  // request at TP4 fp32; running requests = slots / 3.
  CHECK(mp->state_pool_bytes == Approx(rest * 0.9 / 1.9));
  CHECK(fp.SeparateStateBytes() == Approx(36 * 2146304.0 / 4));
  CHECK(mp->state_slots == int64_t(mp->state_pool_bytes / fp.SeparateStateBytes()));
  CHECK(mp->running_cap_by_state == mp->state_slots / 3);
  CHECK(mp->kv_budget_bytes == Approx(rest - mp->state_pool_bytes));
}

}  // namespace
}  // namespace moesim
