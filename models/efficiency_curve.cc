#include "models/efficiency_curve.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace moesim {

double EfficiencyCurve::At(double size) const {
  if (points_.empty()) return 1.0;
  if (size <= points_.front().first) return points_.front().second;
  if (size >= points_.back().first) return points_.back().second;
  for (size_t i = 1; i < points_.size(); ++i) {
    if (size <= points_[i].first) {
      const auto& [x0, y0] = points_[i - 1];
      const auto& [x1, y1] = points_[i];
      const double t = (std::log2(size) - std::log2(x0)) / (std::log2(x1) - std::log2(x0));
      return y0 + t * (y1 - y0);
    }
  }
  return points_.back().second;
}

absl::StatusOr<EfficiencyCurve> EfficiencyCurve::Parse(const nlohmann::json& value,
                                                       const JsonLocation& where) {
  const std::string expected =
      "a non-empty array of [size > 0, efficiency in (0, 1]] pairs with increasing size";
  if (!value.is_array() || value.empty()) return BadValue(where, value, expected);
  std::vector<std::pair<double, double>> points;
  for (size_t i = 0; i < value.size(); ++i) {
    const auto& p = value[i];
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
      return BadValue(where.Index(i), p, expected);
    }
    const double x = p[0].get<double>();
    const double y = p[1].get<double>();
    if (!(x > 0) || !(y > 0) || y > 1 || !std::isfinite(x)) {
      return BadValue(where.Index(i), p, expected);
    }
    if (!points.empty() && x <= points.back().first) return BadValue(where.Index(i), p, expected);
    points.emplace_back(x, y);
  }
  return EfficiencyCurve(std::move(points));
}

nlohmann::json EfficiencyCurve::ToJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [x, y] : points_) out.push_back({x, y});
  return out;
}

}  // namespace moesim
