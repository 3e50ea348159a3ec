// Comparison of a report with the published measurements its scenario carries.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "engine/scenario.h"

namespace moesim {

struct ValidationRow {
  std::string scenario;
  std::string metric;
  std::string unit;
  std::string source;
  double measured = 0;
  double predicted = 0;
  double error_pct = 0;  // (predicted − measured) / measured × 100
  double tolerance_pct = 0;
  bool pass = false;
};

// Looks up a dotted path ("throughput.output_tok_per_s") in a report.
absl::StatusOr<double> ReportValue(const nlohmann::json& report, const std::string& path);

absl::StatusOr<std::vector<ValidationRow>> CompareWithReferences(const Scenario& scenario,
                                                                 const nlohmann::json& report);

}  // namespace moesim
