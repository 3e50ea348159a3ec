// Comparison of a report with the published measurements its scenario carries, and the summary
// `moesim validate` prints over a whole reference set.
//
//   auto rows = CompareWithReferences(scenario, report);          // one row per reference
//   results.push_back({scenario.name, LabelsFor(scenario), *rows});
//   ValidationSummary summary = SummarizeValidation(results);     // per metric, per group
//   std::cout << FormatValidationSummary(summary);
#pragma once

#include <map>
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

// What a reference scenario is, for grouping its errors: the runtime preset's name ("sglang",
// "trtllm", "vllm"; "custom" for an inline runtime), the GPU preset's name ("B200"), and the plan
// kind: "dp-attention+ep" (DP attention over an expert-parallel group), "tp+ep" (tensor parallel
// with whole experts spread, ep > 1) or "tp" (experts split tensor-parallel, ep = 1).
struct ValidationLabels {
  std::string stack;
  std::string gpu;
  std::string plan;
};
ValidationLabels LabelsFor(const Scenario& scenario);

// One scenario's comparison rows with its labels.
struct ScenarioValidation {
  std::string scenario;
  ValidationLabels labels;
  std::vector<ValidationRow> rows;
};

// Error statistics over a set of rows of one metric. |error| is |error_pct|. The median of an
// even count is the mean of the two middle values; the worst row is the first one (in input
// order) with the largest |error|.
struct ErrorStats {
  int count = 0;
  int outside_tolerance = 0;
  double median_abs_error_pct = 0;
  double median_error_pct = 0;  // signed: > 0 when the model over-predicts more often than not
  double worst_abs_error_pct = 0;
  double worst_error_pct = 0;  // signed error of the worst row
  std::string worst_scenario;
};

// One metric over all rows, and the same split by stack, by GPU and by plan kind (map keys are
// the label values, so groups print in a fixed order).
struct MetricSummary {
  std::string metric;
  ErrorStats all;
  std::map<std::string, ErrorStats> by_stack;
  std::map<std::string, ErrorStats> by_gpu;
  std::map<std::string, ErrorStats> by_plan;
};

// Metrics sorted by name. Pure: the same input gives the same summary.
struct ValidationSummary {
  std::vector<MetricSummary> metrics;
};
ValidationSummary SummarizeValidation(const std::vector<ScenarioValidation>& results);

// Fixed-width text, one line per metric and per group, e.g.
//   throughput.output_tok_per_s_per_gpu  all            n=110  median |err| 12.3 %  ...
std::string FormatValidationSummary(const ValidationSummary& summary);

// JSON forms for `moesim validate --json`: an array of every row (with its scenario's labels),
// and the summary as an object keyed by metric, each {"all", "by_stack", "by_gpu", "by_plan"}
// with the ErrorStats fields as keys.
nlohmann::json ValidationRowsToJson(const std::vector<ScenarioValidation>& results);
nlohmann::json ValidationSummaryToJson(const ValidationSummary& summary);

}  // namespace moesim
