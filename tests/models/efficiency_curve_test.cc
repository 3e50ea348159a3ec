// Tests for models/efficiency_curve.h: log2-linear interpolation, clamping and parsing rules.
#include "models/efficiency_curve.h"

#include <cmath>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace moesim {
namespace {

using nlohmann::json;

// Expected values are computed by hand from the rule in models/efficiency_curve.h ("linear in
// log2(size)") for the example curve in that header, {{1, 0.01}, {128, 0.25}, {4096, 0.55}}:
//   At(64):  t = (6 − 0)/(7 − 0) = 6/7      -> 0.01 + 6/7·0.24 = 0.215714285...
//   At(16):  t = 4/7                        -> 0.01 + 4/7·0.24 = 0.147142857...
//   At(sqrt(128·4096) = 2^9.5): t = 0.5     -> 0.25 + 0.5·0.30 = 0.40
//   At(1024): t = (10 − 7)/(12 − 7) = 0.6   -> 0.25 + 0.6·0.30 = 0.43
// Tolerance: 1e-12 absolute (double rounding of log2 only).
TEST_CASE("EfficiencyCurve interpolates linearly in log2(size)", "[efficiency_curve]") {
  const EfficiencyCurve mfu({{1, 0.01}, {128, 0.25}, {4096, 0.55}});
  CHECK(mfu.At(64) == Approx(0.01 + 6.0 / 7.0 * 0.24).margin(1e-12));
  CHECK(mfu.At(16) == Approx(0.01 + 4.0 / 7.0 * 0.24).margin(1e-12));
  CHECK(mfu.At(std::sqrt(128.0 * 4096.0)) == Approx(0.40).margin(1e-12));
  CHECK(mfu.At(1024) == Approx(0.43).margin(1e-12));
  // The points themselves are reproduced exactly (margin 1e-12).
  CHECK(mfu.At(1) == Approx(0.01).margin(1e-12));
  CHECK(mfu.At(128) == Approx(0.25).margin(1e-12));
  CHECK(mfu.At(4096) == Approx(0.55).margin(1e-12));
  // Linear in log2, not in size: At(64) is well above the linear-in-size value
  // 0.01 + 63/127·0.24 = 0.129.
  CHECK(mfu.At(64) > 0.2);
}

// "outside it clamps to the first or last point. A single point is a constant." (header); exact.
TEST_CASE("EfficiencyCurve clamps at the ends and a single point is a constant",
          "[efficiency_curve]") {
  const EfficiencyCurve mfu({{1, 0.01}, {128, 0.25}, {4096, 0.55}});
  CHECK(mfu.At(0.25) == 0.01);
  CHECK(mfu.At(0) == 0.01);
  CHECK(mfu.At(-5) == 0.01);
  CHECK(mfu.At(8192) == 0.55);
  CHECK(mfu.At(1e12) == 0.55);

  const EfficiencyCurve flat({{64, 0.7}});
  CHECK(flat.At(1) == 0.7);
  CHECK(flat.At(64) == 0.7);
  CHECK(flat.At(1e6) == 0.7);
}

// Parse accepts the documented format and keeps the points; ToJson round-trips (exact).
TEST_CASE("EfficiencyCurve::Parse accepts valid curves and round-trips", "[efficiency_curve]") {
  const json j = json::parse("[[1, 0.005], [16, 0.08], [4096, 1.0]]");
  auto curve = EfficiencyCurve::Parse(j, {"gpus.json", "$.H200.gemm_mfu_vs_tokens"});
  REQUIRE(curve.ok());
  REQUIRE(curve->points().size() == 3);
  CHECK(curve->points()[2].first == 4096);
  CHECK(curve->points()[2].second == 1.0);  // efficiency exactly 1 is allowed ((0, 1])
  CHECK(curve->ToJson() == j);
  auto again = EfficiencyCurve::Parse(curve->ToJson(), {"x.json", "$"});
  REQUIRE(again.ok());
  CHECK(again->points() == curve->points());
}

// Parse rules from models/efficiency_curve.h: strictly increasing size > 0, efficiency in (0, 1],
// an array of [number, number] pairs. Every failure names file and path (index of the bad point).
TEST_CASE("EfficiencyCurve::Parse rejects malformed curves", "[efficiency_curve]") {
  const JsonLocation where{"gpus.json", "$.X.curve"};
  struct Bad {
    const char* text;
    const char* path;  // expected path in the message
  };
  const Bad bad[] = {
      {"[[1, 0.1], [1, 0.2]]", "$.X.curve[1]"},   // equal sizes (not strictly increasing)
      {"[[4, 0.1], [2, 0.2]]", "$.X.curve[1]"},   // decreasing sizes
      {"[[1, 0.1], [2, 1.01]]", "$.X.curve[1]"},  // efficiency > 1
      {"[[1, 0.0]]", "$.X.curve[0]"},             // efficiency = 0
      {"[[1, -0.2]]", "$.X.curve[0]"},            // efficiency < 0
      {"[[0, 0.5]]", "$.X.curve[0]"},             // size = 0
      {"[[-1, 0.5]]", "$.X.curve[0]"},            // size < 0
      {"[[1, 0.5, 3]]", "$.X.curve[0]"},          // not a pair
      {"[[1, \"0.5\"]]", "$.X.curve[0]"},         // non-number efficiency
      {"[5]", "$.X.curve[0]"},                    // point not an array
      {"[]", "$.X.curve"},                        // empty
      {"{\"1\": 0.5}", "$.X.curve"},              // object, not an array
      {"0.5", "$.X.curve"},                       // number, not an array
      {"\"flat\"", "$.X.curve"},                  // string, not an array
  };
  for (const Bad& b : bad) {
    INFO("curve: " << b.text);
    auto curve = EfficiencyCurve::Parse(json::parse(b.text), where);
    REQUIRE_FALSE(curve.ok());
    const std::string msg(curve.status().message());
    CHECK_THAT(msg, Catch::Contains("gpus.json"));
    CHECK_THAT(msg, Catch::Contains(b.path));
    CHECK_THAT(msg, Catch::Contains("expected"));
  }
}

// A default-constructed (empty) curve answers 1.0 (models/efficiency_curve.cc: no points, no
// derating); exact.
TEST_CASE("Empty EfficiencyCurve is 1", "[efficiency_curve]") {
  CHECK(EfficiencyCurve().At(100) == 1.0);
}

}  // namespace
}  // namespace moesim
