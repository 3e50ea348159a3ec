// A measured efficiency as a function of a size (e.g. GEMM MFU vs tokens per GEMM).
//
// Points are (size, efficiency) pairs with strictly increasing size > 0 and efficiency in (0, 1].
// Between points the curve interpolates linearly in log2(size); outside it clamps to the first or
// last point. A single point is a constant.
//
//   EfficiencyCurve mfu({{1, 0.01}, {128, 0.25}, {4096, 0.55}});
//   mfu.At(64);   // between 0.01 and 0.25, linear in log2(64)
#pragma once

#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

class EfficiencyCurve {
 public:
  EfficiencyCurve() = default;
  explicit EfficiencyCurve(std::vector<std::pair<double, double>> points)
      : points_(std::move(points)) {}

  double At(double size) const;
  const std::vector<std::pair<double, double>>& points() const { return points_; }

  // Parses [[size, efficiency], ...] with the rules above.
  static absl::StatusOr<EfficiencyCurve> Parse(const nlohmann::json& value,
                                               const JsonLocation& where);
  nlohmann::json ToJson() const;

 private:
  std::vector<std::pair<double, double>> points_;
};

}  // namespace moesim
