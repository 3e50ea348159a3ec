// The kernel list of a step (models/decode_step.h): MoE plans (expert parallelism smaller than
// tensor parallelism, dense layers with their own TP degree, redundant slots) and the kernels a
// stack fuses.
#include "models/decode_step.h"
#include "models/routing.h"

#include <string>

#include <catch2/catch.hpp>

#include "../support/preset_fixtures.h"

namespace moesim {
namespace {

const Op* Find(const StepProgram& p, int block, const std::string& name) {
  for (const Op& op : p.blocks[block]) {
    if (name == op.name) return &op;
  }
  return nullptr;
}

RuntimeSpec Stack() {
  RuntimeSpec r;
  r.dynamic_activation_quant = true;
  r.moe_kernels = 5;
  return r;
}

StepBatch Decode(int64_t seqs) {
  StepBatch b;
  b.decode_seqs = b.sampled_seqs = seqs;
  b.full_pairs = b.full_kv_tokens = seqs * 1000.0;
  return b;
}

// DeepSeek-V3 blocks: 0 embedding, 1 dense layer, 2 MoE layer, 3 head.
TEST_CASE("TP8 with EP2: 128 whole experts per group, each split 4 ways", "[decode_step]") {
  const ModelSpec m = testing::ModelPreset("DeepSeek-V3");
  ParallelPlan tp8ep2;
  tp8ep2.tp = 8;
  tp8ep2.ep = 2;
  ParallelPlan tp8ep8 = tp8ep2;
  tp8ep8.ep = 8;
  // Both at uniform routing's mean load per GPU (the busiest GPU's excess is checked below).
  const auto mean_loads = [&](int ep) {
    MoeLayerLoad l;
    l.assignments = 64.0 * m.moe.top_k / ep;
    l.active_experts = ExpectedDistinctExperts(m.moe.routed_experts, m.moe.top_k, 64) / ep;
    return std::vector<MoeLayerLoad>(m.MoeLayerCount(), l);
  };
  const std::vector<MoeLayerLoad> mean2 = mean_loads(2), mean8 = mean_loads(8);
  const StepProgram a = BuildStepProgram(m, Stack(), tp8ep2, Decode(64), 0, &mean2);
  const StepProgram b = BuildStepProgram(m, Stack(), tp8ep8, Decode(64), 0, &mean8);
  const Op* moe_a = Find(a, 2, "fused_moe");
  const Op* moe_b = Find(b, 2, "fused_moe");
  REQUIRE(moe_a != nullptr);
  REQUIRE(moe_b != nullptr);
  CHECK(tp8ep2.MoeTp() == 4);
  CHECK(moe_a->local_experts == 128);
  CHECK(moe_b->local_experts == 32);
  // Same FLOPs per GPU (the work is split 8 ways either way); EP2 reads 4x more experts at a
  // quarter of their width each: the same weight bytes when every expert is active.
  CHECK(moe_a->flops == Approx(moe_b->flops));
  // Each expert sees the same tokens however the experts are grouped.
  CHECK(moe_a->gemm_rows == Approx(moe_b->gemm_rows));
  CHECK(Find(a, 2, "moe_allreduce") != nullptr);  // the groups' partial sums still all-reduce
  // Without a routing sample each group runs at its expected busiest GPU's load
  // (models/routing.h): above the mean, and further above it among 8 groups than among 2.
  const StepProgram a_busiest = BuildStepProgram(m, Stack(), tp8ep2, Decode(64));
  const StepProgram b_busiest = BuildStepProgram(m, Stack(), tp8ep8, Decode(64));
  const double excess2 = Find(a_busiest, 2, "fused_moe")->flops / moe_a->flops;
  const double excess8 = Find(b_busiest, 2, "fused_moe")->flops / moe_b->flops;
  CHECK(excess2 > 1.0);
  CHECK(excess8 > excess2);
}

TEST_CASE("dense_tp 1: dense layers and shared experts replicated, no FFN all-reduce",
          "[decode_step]") {
  const ModelSpec m = testing::ModelPreset("DeepSeek-V3");
  ParallelPlan p;
  p.tp = 8;
  p.ep = 8;
  ParallelPlan dense1 = p;
  dense1.dense_tp = 1;
  const StepProgram a = BuildStepProgram(m, Stack(), p, Decode(16));
  const StepProgram b = BuildStepProgram(m, Stack(), dense1, Decode(16));
  CHECK(Find(a, 1, "ffn_allreduce") != nullptr);
  CHECK(Find(b, 1, "ffn_allreduce") == nullptr);
  CHECK(Find(b, 1, "ffn_gate_up")->flops == Approx(8 * Find(a, 1, "ffn_gate_up")->flops));
  CHECK(Find(b, 2, "shared_gate_up")->flops == Approx(8 * Find(a, 2, "shared_gate_up")->flops));
}

TEST_CASE("fusions: quant in the norm, AR + norm, q/k norm + rope take kernels away",
          "[decode_step]") {
  const ModelSpec m = testing::ModelPreset("Qwen3-235B-A22B");
  ModelSpec fp8 = m;
  fp8.weight_dtype = fp8.expert_weight_dtype = DType::kFp8;
  ParallelPlan p;
  p.tp = 8;
  p.ep = 8;
  RuntimeSpec plain = Stack();
  RuntimeSpec fused = Stack();
  fused.fuse_act_quant = fused.fuse_allreduce_norm = fused.fuse_qk_norm_rope = true;
  const StepProgram a = BuildStepProgram(fp8, plain, p, Decode(8));
  const StepProgram b = BuildStepProgram(fp8, fused, p, Decode(8));
  // Block 1 is the first layer (no embedding-only layers in Qwen3).
  CHECK(Find(a, 1, "qkv_proj")->kernels == 2);  // activation quant + GEMM
  CHECK(Find(b, 1, "qkv_proj")->kernels == 1);
  CHECK(Find(a, 1, "fused_moe")->kernels == 5 + 2);
  CHECK(Find(b, 1, "fused_moe")->kernels == 5);
  CHECK(Find(a, 1, "post_attn_norm") != nullptr);
  CHECK(Find(b, 1, "post_attn_norm") == nullptr);  // done by the all-reduce kernel
  CHECK(Find(a, 1, "q_norm") != nullptr);
  CHECK(Find(b, 1, "qk_norm_rope") != nullptr);
  CHECK(Find(b, 1, "rope") == nullptr);
  CHECK(b.KernelCount() < a.KernelCount());
}

TEST_CASE("redundant expert slots add resident experts per GPU", "[decode_step]") {
  const ModelSpec m = testing::ModelPreset("DeepSeek-V3");
  ParallelPlan p;
  p.dp_attention = true;
  p.ep = 72;
  p.redundant_experts = 32;  // 288 slots over EP72: 4 per GPU
  const StepProgram s = BuildStepProgram(m, Stack(), p, Decode(32));
  CHECK(Find(s, 2, "fused_moe")->local_experts == 4);
}

}  // namespace
}  // namespace moesim
