// `moesim compare`: reports of several scenarios side by side. Each headline metric gets a row
// with every scenario's value and its ratio to the first scenario's (the baseline); ratios at
// least `notable` away from 1 are marked "!". Below the table: which subsystem limits each
// plan, and whether it changed from the baseline's.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace moesim {

// The default of `moesim compare --notable`: a display threshold (not a model constant) for
// marking a ratio as a change worth reading.
inline constexpr double kDefaultNotableChange = 0.05;

std::string ComparisonToText(const std::vector<std::string>& names,
                             const std::vector<nlohmann::json>& reports, double notable);
// {"scenarios": [...], "metrics": [{"metric", "values": [...], "ratios": [...]}], "limits": [...]}
nlohmann::json ComparisonToJson(const std::vector<std::string>& names,
                                const std::vector<nlohmann::json>& reports);

}  // namespace moesim
