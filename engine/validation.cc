#include "engine/validation.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

ValidationLabels LabelsFor(const Scenario& s) {
  // A reference measures one deployment, labelled by its first pool, or by its (first) decode
  // pool when prefill and decode are disaggregated.
  const PoolSpec* pool = &s.plan.pools.at(0);
  for (const PoolSpec& p : s.plan.pools) {
    if (p.role == PoolRole::kDecode) {
      pool = &p;
      break;
    }
  }
  ValidationLabels labels;
  labels.stack = pool->runtime.name;
  labels.gpu = pool->gpu.name;
  const ParallelPlan& p = pool->deployment.plan;
  labels.plan = p.dp_attention ? "dp-attention+ep" : (p.ep > 1 ? "tp+ep" : "tp");
  if (s.plan.Disaggregated()) labels.plan = "disagg, decode " + labels.plan;
  return labels;
}

namespace {

// One row's contribution to a group.
struct ErrorSample {
  double error_pct;
  bool pass;
  const std::string* scenario;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

ErrorStats StatsOf(const std::vector<ErrorSample>& samples) {
  ErrorStats s;
  s.count = static_cast<int>(samples.size());
  if (samples.empty()) return s;
  std::vector<double> abs_errors, errors;
  for (size_t i = 0; i < samples.size(); ++i) {
    const ErrorSample& e = samples[i];
    abs_errors.push_back(std::fabs(e.error_pct));
    errors.push_back(e.error_pct);
    if (!e.pass) ++s.outside_tolerance;
    if (i == 0 || std::fabs(e.error_pct) > s.worst_abs_error_pct) {
      s.worst_abs_error_pct = std::fabs(e.error_pct);
      s.worst_error_pct = e.error_pct;
      s.worst_scenario = *e.scenario;
    }
  }
  s.median_abs_error_pct = Median(abs_errors);
  s.median_error_pct = Median(errors);
  return s;
}

// Samples of one metric, all and per label value.
struct MetricSamples {
  std::vector<ErrorSample> all;
  std::map<std::string, std::vector<ErrorSample>> by_stack, by_gpu, by_plan;
};

std::map<std::string, ErrorStats> StatsPerGroup(
    const std::map<std::string, std::vector<ErrorSample>>& groups) {
  std::map<std::string, ErrorStats> out;
  for (const auto& [label, samples] : groups) out[label] = StatsOf(samples);
  return out;
}

std::string StatsLine(const std::string& group, const ErrorStats& s) {
  return absl::StrFormat("  %-22s %5d %8d %12.1f %+11.1f %11.1f  %s\n", group, s.count,
                         s.outside_tolerance, s.median_abs_error_pct, s.median_error_pct,
                         s.worst_abs_error_pct, s.worst_scenario);
}

nlohmann::json StatsToJson(const ErrorStats& s) {
  return {{"count", s.count},
          {"outside_tolerance", s.outside_tolerance},
          {"median_abs_error_pct", s.median_abs_error_pct},
          {"median_error_pct", s.median_error_pct},
          {"worst_abs_error_pct", s.worst_abs_error_pct},
          {"worst_error_pct", s.worst_error_pct},
          {"worst_scenario", s.worst_scenario}};
}

nlohmann::json GroupsToJson(const std::map<std::string, ErrorStats>& groups) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [label, stats] : groups) out[label] = StatsToJson(stats);
  return out;
}

}  // namespace

ValidationSummary SummarizeValidation(const std::vector<ScenarioValidation>& results) {
  std::map<std::string, MetricSamples> per_metric;
  for (const ScenarioValidation& r : results) {
    for (const ValidationRow& row : r.rows) {
      const ErrorSample e{row.error_pct, row.pass, &r.scenario};
      MetricSamples& m = per_metric[row.metric];
      m.all.push_back(e);
      m.by_stack[r.labels.stack].push_back(e);
      m.by_gpu[r.labels.gpu].push_back(e);
      m.by_plan[r.labels.plan].push_back(e);
    }
  }
  ValidationSummary summary;
  for (const auto& [metric, samples] : per_metric) {
    MetricSummary m;
    m.metric = metric;
    m.all = StatsOf(samples.all);
    m.by_stack = StatsPerGroup(samples.by_stack);
    m.by_gpu = StatsPerGroup(samples.by_gpu);
    m.by_plan = StatsPerGroup(samples.by_plan);
    summary.metrics.push_back(std::move(m));
  }
  return summary;
}

std::string FormatValidationSummary(const ValidationSummary& summary) {
  std::string out =
      "summary: |error| = |predicted - measured| / measured; err = signed (> 0: over-predicts)\n";
  for (const MetricSummary& m : summary.metrics) {
    absl::StrAppend(
        &out, m.metric, "\n",
        absl::StrFormat("  %-22s %5s %8s %12s %11s %11s  %s\n", "group", "n", "out-tol",
                        "median|err|%", "median err%", "worst|err|%", "worst scenario"));
    absl::StrAppend(&out, StatsLine("all", m.all));
    for (const auto& [label, s] : m.by_stack) absl::StrAppend(&out, StatsLine("stack " + label, s));
    for (const auto& [label, s] : m.by_gpu) absl::StrAppend(&out, StatsLine("gpu " + label, s));
    for (const auto& [label, s] : m.by_plan) absl::StrAppend(&out, StatsLine("plan " + label, s));
  }
  return out;
}

nlohmann::json ValidationRowsToJson(const std::vector<ScenarioValidation>& results) {
  nlohmann::json rows = nlohmann::json::array();
  for (const ScenarioValidation& r : results) {
    for (const ValidationRow& row : r.rows) {
      rows.push_back({{"scenario", row.scenario},
                      {"stack", r.labels.stack},
                      {"gpu", r.labels.gpu},
                      {"plan", r.labels.plan},
                      {"metric", row.metric},
                      {"unit", row.unit},
                      {"source", row.source},
                      {"measured", row.measured},
                      {"predicted", row.predicted},
                      {"error_pct", row.error_pct},
                      {"tolerance_pct", row.tolerance_pct},
                      {"pass", row.pass}});
    }
  }
  return rows;
}

nlohmann::json ValidationSummaryToJson(const ValidationSummary& summary) {
  nlohmann::json metrics = nlohmann::json::object();
  for (const MetricSummary& m : summary.metrics) {
    metrics[m.metric] = {{"all", StatsToJson(m.all)},
                         {"by_stack", GroupsToJson(m.by_stack)},
                         {"by_gpu", GroupsToJson(m.by_gpu)},
                         {"by_plan", GroupsToJson(m.by_plan)}};
  }
  return metrics;
}

}  // namespace moesim
