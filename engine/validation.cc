#include "engine/validation.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moesim {

absl::StatusOr<double> ReportValue(const nlohmann::json& report, const std::string& path) {
  const nlohmann::json* node = &report;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    const std::string key(part);
    if (!node->is_object() || !node->contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat("the report has no value at \"", path, "\""));
    }
    node = &(*node)[key];
  }
  if (!node->is_number()) {
    return absl::InvalidArgumentError(absl::StrCat("report value \"", path, "\" is not a number"));
  }
  return node->get<double>();
}

absl::StatusOr<std::vector<ValidationRow>> CompareWithReferences(const Scenario& s,
                                                                 const nlohmann::json& report) {
  std::vector<ValidationRow> rows;
  for (size_t i = 0; i < s.references.size(); ++i) {
    const ReferenceMeasurement& m = s.references[i];
    auto predicted = ReportValue(report, m.metric);
    if (!predicted.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(s.file, ": $.reference[", i, "].metric: ", predicted.status().message()));
    }
    ValidationRow row;
    row.scenario = s.name;
    row.metric = m.metric;
    row.unit = m.unit;
    row.source = m.source;
    row.measured = m.value;
    row.predicted = *predicted;
    row.error_pct = (row.predicted - row.measured) / row.measured * 100.0;
    row.tolerance_pct = m.tolerance_pct;
    row.pass = std::fabs(row.error_pct) <= m.tolerance_pct;
    rows.push_back(row);
  }
  return rows;
}

}  // namespace moesim
