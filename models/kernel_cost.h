// Time of one op on one GPU from the measured law of its kernel class (models/kernel_table.h):
//
//   GEMM:        max(faster weight-streaming regime(bytes), flops / (peak(dtype) · mfu(M)))
//   fused MoE:   fixed + per-local-expert · experts + max(bytes / (BW · eff), flops / (peak ·
//                mfu(rows per expert)))
//   attention:   fixed + max(bytes / (BW · eff), flops / (bf16 peak · mfu))
//   elementwise: fixed + bytes / (BW · eff)
//
// and never shorter than the smallest measured kernel (the elementwise floor) per kernel the
// op stands for. With every fixed cost 0 and every efficiency 1 this is the plain roofline of
// seed 001. Launch overhead is not part of a kernel's time: the launch pipeline adds it by
// execution mode. Collectives are not costed here (engine/collective_runner).
#pragma once

#include "models/decode_step.h"
#include "models/gpu_spec.h"
#include "models/runtime_spec.h"

namespace moesim {

enum class Bound { kCompute, kMemory };

struct KernelTime {
  double seconds = 0;
  Bound bound = Bound::kMemory;
  double compute_seconds = 0;  // flops term alone
  double memory_seconds = 0;   // bytes term alone (fixed costs included)
  double fixed_seconds = 0;    // the part of `seconds` that is the class's fixed cost
};

class KernelCostModel {
 public:
  explicit KernelCostModel(const GpuSpec& gpu) : gpu_(gpu), gqa_(gpu.kernels.attention_gqa) {}
  // The serving stack may bring its own paged GQA decode kernel (RuntimeSpec).
  KernelCostModel(const GpuSpec& gpu, const RuntimeSpec& runtime);
  KernelTime Time(const Op& op) const;

 private:
  const GemmClass& Gemm(GemmFormat f) const;
  const MoeClass& Moe(GemmFormat f) const;
  const AttentionClass& Attention(AttentionFamily f) const;

  const GpuSpec& gpu_;
  AttentionClass gqa_;  // the GPU's class with the stack's kernel applied
};

}  // namespace moesim
