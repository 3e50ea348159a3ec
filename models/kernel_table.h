// Measured efficiency of each kernel class on one GPU type: what a decode kernel really costs.
//
// A kernel class is a family of kernels whose time follows one law, with constants fitted to
// published kernel tables (../shared/reference/calibration/ and docs/research/, each value's
// source in models/presets/gpus.json):
//
//  * Dense GEMMs (a linear layer as a stack runs it, its activation quantisation included), per
//    weight format. Memory side: two measured regimes of t = fixed + bytes / bandwidth, one fitted
//    on decode-sized weights (5-60 MB, where too few thread blocks keep HBM busy) and one on large
//    weights; a kernel takes the faster of the two lines. Compute side: FLOPs / (peak × mfu(M)).
//  * Fused MoE blocks (routing, permute, grouped gate-up and down GEMMs, activation, combine),
//    per expert weight format: fixed + per-local-expert overhead, expert weights streamed at a
//    fraction of peak HBM bandwidth, compute at mfu(rows per expert).
//  * Decode attention per kind (paged GQA/MHA, MLA, linear-attention state update): a floor, a
//    fraction of peak HBM bandwidth for the KV (or state) bytes, an mfu for the math.
//  * Elementwise kernels (norms, activations, rope, KV writes, sampling): a floor plus bytes at a
//    fraction of peak bandwidth.
//
// With every fixed cost 0 and every efficiency 1 each law is the plain roofline of seed 001.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/efficiency_curve.h"
#include "models/json_reader.h"

namespace moesim {

// t = fixed_us + bytes / (tb_per_s × 1e12): one measured weight-streaming regime.
struct StreamLine {
  double fixed_us = 0;
  double tb_per_s = 0;
  double Seconds(double bytes) const { return fixed_us * 1e-6 + bytes / (tb_per_s * 1e12); }
};

struct GemmClass {
  StreamLine small;             // fitted on decode-sized weights
  StreamLine large;             // fitted on large weights
  EfficiencyCurve mfu_vs_rows;  // achieved / dense peak vs GEMM rows M
  // Memory-side time: the faster of the two measured regimes.
  double MemorySeconds(double bytes) const;
};

struct MoeClass {
  double fixed_us = 0;             // routing, permutation, launch tails of the whole block
  double us_per_local_expert = 0;  // per expert resident on the GPU (scans, offsets)
  double hbm_efficiency = 0;       // expert weights streamed at this fraction of peak
  EfficiencyCurve mfu_vs_rows;     // achieved / dense peak vs rows per active expert
};

struct AttentionClass {
  double fixed_us = 0;        // smallest decode-attention kernel
  double hbm_efficiency = 0;  // KV or state bytes at this fraction of peak
  double mfu = 0;             // attention math at this fraction of the bf16 peak
};

struct ElementwiseClass {
  double fixed_us = 0;
  double hbm_efficiency = 0;
};

struct KernelTable {
  // GPU gap added to every kernel node of a replayed CUDA/HIP graph beyond the class costs
  // below: 0 where those costs were themselves measured under graph replay.
  double graph_node_us = 0;
  GemmClass gemm_bf16;
  GemmClass gemm_fp8_tensor;  // per-tensor / per-token scaled fp8 (dynamic activation scales)
  GemmClass gemm_fp8_block;   // 1×128 / 128×128 block-scaled fp8 (DeepSeek, DeepGEMM)
  GemmClass gemm_fp4;         // NVFP4 / MXFP4
  MoeClass moe_bf16;
  MoeClass moe_fp8;
  MoeClass moe_fp4;
  AttentionClass attention_gqa;     // paged GQA / MHA decode (and chunked prefill)
  AttentionClass attention_mla;     // absorbed MLA decode
  AttentionClass attention_linear;  // linear-attention (Gated DeltaNet) state update
  ElementwiseClass elementwise;
};

// Parses the GPU preset's "kernels" object: {"graph_node_us", "gemm": {"bf16", "fp8_tensor", "fp8_block",
// "fp4"}, "moe": {"bf16", "fp8", "fp4"}, "attention": {"gqa", "mla", "linear"},
// "elementwise"}.
absl::StatusOr<KernelTable> ParseKernelTable(const nlohmann::json& value,
                                             const JsonLocation& where);
nlohmann::json KernelTableToJson(const KernelTable& t);

}  // namespace moesim
