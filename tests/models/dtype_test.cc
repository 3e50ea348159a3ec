// Tests for models/dtype.h: storage cost per element and dtype-name parsing.
#include "models/dtype.h"

#include <catch2/catch.hpp>

namespace moesim {
namespace {

// Expected bytes per weight element, from the format definitions in models/dtype.h's header
// comment (and the sources it cites):
//   bf16 = 2 B (IEEE bfloat16);
//   fp8  = 1 B + one fp32 scale per 128x128 block = 1 + 4/16384 = 1.000244140625 B
//          (seeds/001 "W1 (FP8) + W2 (FP8) + scales (FP32)", DeepSeek-V3 block-128 scaling);
//   fp4  = 0.5 B + one 8-bit scale per 32 elements = 0.53125 B (OCP MXFP4; calibration.md §4.3
//          "~13.2 MB MXFP4 at 4.25 bit").
// All three are exact binary fractions, so the tolerance is exact equality.
TEST_CASE("WeightBytesPerElement includes block-scale overhead", "[dtype]") {
  CHECK(WeightBytesPerElement(DType::kBf16) == 2.0);
  CHECK(WeightBytesPerElement(DType::kFp8) == 1.0 + 4.0 / 16384.0);
  CHECK(WeightBytesPerElement(DType::kFp8) == 1.000244140625);
  CHECK(WeightBytesPerElement(DType::kFp4) == 0.53125);
  // 4.25 bits per element (calibration.md §4.3): 0.53125 B * 8 = 4.25 bit, exact.
  CHECK(WeightBytesPerElement(DType::kFp4) * 8.0 == 4.25);
}

// Activation / KV element sizes carry no block scales (models/dtype.h: "KV fp8 is per-tensor"):
// 2, 1 and 0.5 B exactly.
TEST_CASE("ElementBytes has no scale overhead", "[dtype]") {
  CHECK(ElementBytes(DType::kBf16) == 2.0);
  CHECK(ElementBytes(DType::kFp8) == 1.0);
  CHECK(ElementBytes(DType::kFp4) == 0.5);
}

// Names are the strings documented in models/dtype.h ("bf16", "fp8", "fp4"); exact match.
TEST_CASE("DTypeName and ParseDType round-trip", "[dtype]") {
  for (DType t : {DType::kBf16, DType::kFp8, DType::kFp4}) {
    auto parsed = ParseDType(DTypeName(t));
    REQUIRE(parsed.ok());
    CHECK(*parsed == t);
  }
  CHECK(std::string(DTypeName(DType::kBf16)) == "bf16");
  CHECK(std::string(DTypeName(DType::kFp8)) == "fp8");
  CHECK(std::string(DTypeName(DType::kFp4)) == "fp4");
}

// Unknown names are InvalidArgument errors whose message lists the accepted names
// (models/dtype.cc's contract; no numeric expectation).
TEST_CASE("ParseDType rejects unknown names and lists the accepted ones", "[dtype]") {
  for (const char* bad : {"fp16", "", "int8", "fp8_block128", "mxfp4"}) {
    INFO("name: '" << bad << "'");
    auto parsed = ParseDType(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string msg(parsed.status().message());
    CHECK_THAT(msg, Catch::Contains("bf16"));
    CHECK_THAT(msg, Catch::Contains("fp8"));
    CHECK_THAT(msg, Catch::Contains("fp4"));
  }
}

}  // namespace
}  // namespace moesim
