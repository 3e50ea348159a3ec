// Numeric formats of weights, activations and KV cache, and their storage cost.
//
// Bytes per element include the block-scale overhead of the format:
//   bf16: 2 B.
//   fp8:  1 B + one fp32 scale per 128x128 weight block (DeepSeek-V3 / DeepGEMM block-128
//         scaling, ../shared/reference/seeds/001: "W1 (FP8) + W2 (FP8) + scales (FP32)")
//         = 1 + 4/16384 B.
//   fp4:  0.5 B + one 8-bit scale per 32 elements (OCP Microscaling MXFP4, as used by
//         gpt-oss; calibration.md §4.3 "~13.2 MB MXFP4 at 4.25 bit") = 0.53125 B.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace moesim {

enum class DType { kBf16, kFp8, kFp4 };

// Bytes per stored weight element, scale overhead included (see above).
double WeightBytesPerElement(DType t);
// Bytes per element of an activation or KV-cache tensor (no block scales; KV fp8 is per-tensor).
double ElementBytes(DType t);

const char* DTypeName(DType t);  // "bf16", "fp8", "fp4"
absl::StatusOr<DType> ParseDType(const std::string& name);

}  // namespace moesim
