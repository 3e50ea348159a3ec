#include "models/kernel_cost.h"

#include <algorithm>

namespace moesim {

KernelTime KernelCostModel::Time(const Op& op) const {
  KernelTime t;
  double mfu = 1.0;
  double bw_eff = gpu_.hbm_efficiency;
  switch (op.cls) {
    case OpClass::kGemm:
    case OpClass::kGroupedGemm:
      mfu = gpu_.gemm_mfu.At(std::max(1.0, op.gemm_rows));
      break;
    case OpClass::kAttention:
      mfu = gpu_.attention_mfu;
      bw_eff = attention_hbm_efficiency_.value_or(gpu_.attention_hbm_efficiency);
      break;
    case OpClass::kElementwise:
    case OpClass::kAllReduce:
    case OpClass::kAllToAll:

      break;
  }
  t.compute_seconds = op.flops > 0 ? op.flops / (gpu_.PeakFlops(op.math_dtype) * mfu) : 0.0;
  t.memory_seconds = op.bytes > 0 ? op.bytes / (gpu_.HbmBytesPerSecond() * bw_eff) : 0.0;
  t.bound = t.compute_seconds > t.memory_seconds ? Bound::kCompute : Bound::kMemory;
  t.seconds = std::max(t.compute_seconds, t.memory_seconds) + gpu_.kernel_floor_us * 1e-6;
  return t;
}

}  // namespace moesim
