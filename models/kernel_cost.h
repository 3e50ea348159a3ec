// Time of one kernel on one GPU: a roofline with measured efficiencies plus a fixed floor.
//
//   t = max(flops / (peak(dtype) · mfu), bytes / (hbm_bw · efficiency)) + kernel_floor
//
// where mfu = gpu.gemm_mfu(M) for GEMMs, gpu.attention_mfu for attention; efficiency =
// the runtime's attention_hbm_efficiency (else the GPU's) for attention, gpu.hbm_efficiency
// otherwise. With every
// efficiency 1 and the floor 0 this is the plain roofline of seed 001.
// Launch overhead is not part of a kernel's time: the step executor adds it by execution mode.
// All-reduce ops are not costed here (see engine/collectives).
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
  double memory_seconds = 0;   // bytes term alone
};

class KernelCostModel {
 public:
  explicit KernelCostModel(const GpuSpec& gpu) : gpu_(gpu) {}
  // The runtime may bring its own attention kernel efficiency (RuntimeSpec).
  KernelCostModel(const GpuSpec& gpu, const RuntimeSpec& runtime)
      : gpu_(gpu), attention_hbm_efficiency_(runtime.attention_hbm_efficiency) {}
  KernelTime Time(const Op& op) const;

 private:
  const GpuSpec& gpu_;
  std::optional<double> attention_hbm_efficiency_;
};

}  // namespace moesim
