#include "models/dtype.h"

#include "absl/status/status.h"

namespace moesim {

double WeightBytesPerElement(DType t) {
  switch (t) {
    case DType::kBf16:
      return 2.0;
    case DType::kFp8:
      return 1.0 + 4.0 / (128.0 * 128.0);
    case DType::kFp4:
      return 0.5 + 1.0 / 32.0;
  }
  return 2.0;
}

double ElementBytes(DType t) {
  switch (t) {
    case DType::kBf16:
      return 2.0;
    case DType::kFp8:
      return 1.0;
    case DType::kFp4:
      return 0.5;
  }
  return 2.0;
}

const char* DTypeName(DType t) {
  switch (t) {
    case DType::kBf16:
      return "bf16";
    case DType::kFp8:
      return "fp8";
    case DType::kFp4:
      return "fp4";
  }
  return "bf16";
}

absl::StatusOr<DType> ParseDType(const std::string& name) {
  if (name == "bf16") return DType::kBf16;
  if (name == "fp8") return DType::kFp8;
  if (name == "fp4") return DType::kFp4;
  return absl::InvalidArgumentError("expected one of \"bf16\", \"fp8\", \"fp4\"");
}

}  // namespace moesim
