#include "models/kernel_cost.h"

#include <algorithm>

namespace moesim {

KernelCostModel::KernelCostModel(const GpuSpec& gpu, const RuntimeSpec& runtime)
    : gpu_(gpu), gqa_(gpu.kernels.attention_gqa) {
  if (runtime.gqa_attention_fixed_us) gqa_.fixed_us = *runtime.gqa_attention_fixed_us;
  if (runtime.gqa_attention_hbm_efficiency) {
    gqa_.hbm_efficiency = *runtime.gqa_attention_hbm_efficiency;
  }
}

const GemmClass& KernelCostModel::Gemm(GemmFormat f) const {
  const KernelTable& k = gpu_.kernels;
  switch (f) {
    case GemmFormat::kFp8Tensor:
      return k.gemm_fp8_tensor;
    case GemmFormat::kFp8Block:
      return k.gemm_fp8_block;
    case GemmFormat::kFp4:
      return k.gemm_fp4;
    case GemmFormat::kBf16:
      break;
  }
  return k.gemm_bf16;
}

const MoeClass& KernelCostModel::Moe(GemmFormat f) const {
  const KernelTable& k = gpu_.kernels;
  switch (f) {
    case GemmFormat::kFp8Tensor:
    case GemmFormat::kFp8Block:
      return k.moe_fp8;
    case GemmFormat::kFp4:
      return k.moe_fp4;
    case GemmFormat::kBf16:
      break;
  }
  return k.moe_bf16;
}

const AttentionClass& KernelCostModel::Attention(AttentionFamily f) const {
  const KernelTable& k = gpu_.kernels;
  switch (f) {
    case AttentionFamily::kMla:
      return k.attention_mla;
    case AttentionFamily::kLinear:
      return k.attention_linear;
    case AttentionFamily::kGqa:
      break;
  }
  return gqa_;
}

KernelTime KernelCostModel::Time(const Op& op) const {
  KernelTime t;
  const double bw = gpu_.HbmBytesPerSecond();
  const double peak = gpu_.PeakFlops(op.math_dtype);
  double fixed = 0;
  switch (op.cls) {
    case OpClass::kGemm: {
      const GemmClass& g = Gemm(op.format);
      t.memory_seconds = g.MemorySeconds(op.bytes);
      t.compute_seconds =
          op.flops > 0 ? op.flops / (peak * g.mfu_vs_rows.At(std::max(1.0, op.gemm_rows))) : 0.0;
      // The regime's fixed cost is part of the memory side (the kernel streams after it).
      fixed = std::min(g.small.fixed_us, g.large.fixed_us) * 1e-6;
      break;
    }
    case OpClass::kMoe: {
      const MoeClass& m = Moe(op.format);
      fixed = (m.fixed_us + m.us_per_local_expert * op.local_experts) * 1e-6;
      t.memory_seconds = fixed + op.bytes / (bw * m.hbm_efficiency);
      t.compute_seconds =
          op.flops > 0 ? fixed + op.flops / (peak * m.mfu_vs_rows.At(std::max(1.0, op.gemm_rows)))
                       : 0.0;
      break;
    }
    case OpClass::kAttention: {
      const AttentionClass& a = Attention(op.attention);
      fixed = a.fixed_us * 1e-6;
      t.memory_seconds = fixed + op.bytes / (bw * a.hbm_efficiency);
      t.compute_seconds = op.flops > 0 ? fixed + op.flops / (peak * a.mfu) : 0.0;
      break;
    }
    case OpClass::kElementwise:
    case OpClass::kAllReduce:
    case OpClass::kAllToAll: {
      const ElementwiseClass& e = gpu_.kernels.elementwise;
      fixed = e.fixed_us * 1e-6;
      t.memory_seconds = fixed + (op.bytes > 0 ? op.bytes / (bw * e.hbm_efficiency) : 0.0);
      break;
    }
  }
  t.bound = t.compute_seconds > t.memory_seconds ? Bound::kCompute : Bound::kMemory;
  const double floor = op.kernels * gpu_.kernels.elementwise.fixed_us * 1e-6;
  t.seconds = std::max({t.compute_seconds, t.memory_seconds, floor});
  t.fixed_seconds = std::min(t.seconds, std::max(fixed, floor));
  return t;
}

}  // namespace moesim
