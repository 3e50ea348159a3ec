// One GPU type: compute peaks, HBM, achieved efficiencies, power and price.
//
// Values come from GPU presets (models/presets/gpus.json, each with its source in
// ../shared/reference/calibration.md) with optional scenario overrides. Units are in the names:
// TFLOP/s are dense (no 2:4 sparsity), GB = 1e9 bytes, bandwidths are per GPU.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/dtype.h"
#include "models/kernel_table.h"
#include "models/json_reader.h"

namespace moesim {

struct GpuSpec {
  std::string name;
  std::string description;

  double bf16_tflops = 0;            // dense tensor-core peak
  double fp8_tflops = 0;             // dense tensor-core peak
  std::optional<double> fp4_tflops;  // absent: no FP4 tensor cores (falls back to bf16 math)

  double hbm_gb = 0;        // usable HBM capacity, 1e9 B
  double hbm_tb_per_s = 0;  // peak HBM bandwidth, 1e12 B/s
  int num_sms = 0;          // streaming multiprocessors (NVIDIA) or compute units (AMD)
  KernelTable kernels;      // measured cost law of each kernel class (models/kernel_table.h)

  double tdp_w = 0;         // board power at full load
  double idle_w = 0;        // board power with the GPU idle but allocated
  double usd_per_hour = 0;  // rental price per GPU-hour (§1.3)

  int scaleup_domain_gpus = 0;       // GPUs in one NVLink / xGMI domain
  bool scaleup_spans_rack = false;   // the scale-up domain spans a rack's servers (NVL72)
  std::string scaleup_fabric;        // fabric preset of the NVLink / xGMI port (§1.2)
  std::string scaleout_fabric;       // fabric preset of the NIC (§1.2)
  std::string host_fabric;           // fabric preset of the GPU <-> host CPU link (§1.2)
  double moe_dispatch_floor_us = 0;  // fixed cost of one MoE dispatch all-to-all kernel (§3.2)
  double moe_combine_floor_us = 0;   // fixed cost of one MoE combine all-to-all kernel (§3.2)

  // Dense peak in FLOP/s for math in `dtype`; fp4 on a GPU without FP4 units runs as bf16.
  double PeakFlops(DType dtype) const;
  double HbmBytesPerSecond() const { return hbm_tb_per_s * 1e12; }
  double HbmBytes() const { return hbm_gb * 1e9; }
};

// Parses a fully resolved GPU object (preset already merged with overrides).
absl::StatusOr<GpuSpec> ParseGpuSpec(const nlohmann::json& value, const JsonLocation& where,
                                     const std::string& name);
nlohmann::json GpuSpecToJson(const GpuSpec& gpu);

}  // namespace moesim
