// Bytes MoE expert parallelism moves per token (DeepEP conventions, calibration.md §3.1–3.2):
// dispatch sends each of a token's top_k copies as fp8 with one fp32 scale per 128 values,
// combine returns each copy in bf16. In low-latency mode every copy goes straight to its
// expert's rank (no per-node de-duplication).
#pragma once

#include "models/model_spec.h"

namespace moesim {

inline constexpr double kDispatchScaleBlock = 128.0;  // DeepEP fp8 dispatch: 1×128 act scales

double DispatchBytesPerCopy(const ModelSpec& model);  // hidden × 1 B + hidden / 128 × 4 B
double CombineBytesPerCopy(const ModelSpec& model);   // hidden × 2 B

// Bytes per token a sized gather (RuntimeSpec::dp_gather "sizes", TensorRT-LLM's
// fused_moe_cutlass.py allgather) moves into the MoE layer: the activation as the expert kernel
// takes it (fp4 experts: nvfp4 values, 0.5 B each, and one fp8 scale per 16; per-tensor fp8
// experts: 1 B; otherwise bf16, the block-scaled fp8 kernels quantising after the gather) and
// the token's top-k expert ids (int32) and routing weights (fp32).
double SizedGatherBytesPerToken(const ModelSpec& model);

// Bytes one rank sends in a dispatch (or receives in a combine) for `tokens` tokens:
// tokens × top_k × bytes per copy (its own experts' share included).
double DispatchBytesPerRank(const ModelSpec& model, double tokens);
double CombineBytesPerRank(const ModelSpec& model, double tokens);

}  // namespace moesim
