#include "tools/compare_writer.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/report_writers.h"

namespace moesim {

namespace {

struct MetricRow {
  const char* label;
  const char* path;  // dotted report path
  double scale;
};

// The metrics compared, in display order.
const MetricRow kMetrics[] = {
    {"GPUs", "plan.gpus", 1},
    {"output tok/s", "throughput.output_tok_per_s", 1},
    {"output tok/s per GPU", "throughput.output_tok_per_s_per_gpu", 1},
    {"tok/s per user", "throughput.per_user_output_tok_per_s", 1},
    {"TTFT p50 (ms)", "latency_s.ttft.p50", 1e3},
    {"TTFT p90 (ms)", "latency_s.ttft.p90", 1e3},
    {"TPOT p50 (ms)", "latency_s.tpot.p50", 1e3},
    {"TPOT p90 (ms)", "latency_s.tpot.p90", 1e3},
    {"E2E p50 (s)", "latency_s.e2e.p50", 1},
    {"finished requests", "latency_s.e2e.count", 1},
    {"mean running batch", "batch.mean_running", 1},
    {"mean queued", "batch.mean_queued", 1},
    {"mean step (ms)", "batch.mean_step_ms", 1},
    {"KV utilisation", "kv.mean_utilisation", 1},
    {"GPU busy", "utilisation.gpu_busy", 1},
    {"scale-up bytes", "fabric.tiers.scale_up.bytes", 1},
    {"scale-out bytes", "fabric.tiers.scale_out.bytes", 1},
    {"inter-rack bytes", "fabric.tiers.inter_rack.bytes", 1},
    {"$ per M output tokens", "cost.usd_per_million_output_tokens", 1},
    {"mean acceptance length", "speculative.measured_acceptance_length", 1},
    // RLVR reports (engine/rlvr_report.h): the step, its split, its cost and cadence.
    {"RLVR step (s)", "rlvr.step_time_s", 1},
    {"  rollout (s)", "rlvr.split_s.rollout", 1},
    {"  slowest 10 % (s)", "rlvr.split_s.rollout_slowest_10pct", 1},
    {"  training (s)", "rlvr.split_s.training", 1},
    {"  weight sync (s)", "rlvr.split_s.weight_sync", 1},
    {"  colocated switch (s)", "rlvr.split_s.switch", 1},
    {"response tokens/step", "rlvr.response_tokens_per_step", 1},
    {"GPU-hours per step", "rlvr.gpu_hours_per_step", 1},
    {"$ per step", "rlvr.usd_per_step", 1},
    {"steps per day", "rlvr.steps_per_day", 1},
    {"rollout $ per M tokens", "rlvr.rollout_usd_per_million_tokens", 1},
};

// A value (scaled), or nullopt when the report has none (e.g. no request finished).
std::optional<double> Value(const nlohmann::json& report, const MetricRow& m) {
  const nlohmann::json* v = JsonAtPath(report, m.path);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  // Latency percentiles of an empty sample are not measurements.
  if (std::string(m.path).rfind("latency_s.", 0) == 0 &&
      std::string(m.path).find(".count") == std::string::npos) {
    const std::string dist = std::string(m.path).substr(0, std::string(m.path).rfind('.'));
    const nlohmann::json* n = JsonAtPath(report, dist + ".count");
    if (n != nullptr && n->is_number() && n->get<double>() == 0) return std::nullopt;
  }
  return v->get<double>() * m.scale;
}

std::string Limit(const nlohmann::json& report) {
  // An RLVR report: the phase that limits the step, and what limits that phase.
  if (const nlohmann::json* step = JsonAtPath(report, "rlvr.limits.step");
      step != nullptr && step->is_string()) {
    const nlohmann::json* why = JsonAtPath(report, "rlvr.limits." + step->get<std::string>());
    return step->get<std::string>() +
           (why != nullptr && why->is_string() ? ": " + why->get<std::string>() : std::string());
  }
  const nlohmann::json* l = JsonAtPath(report, "limit.subsystem");
  if (l == nullptr || !l->is_string()) return "n/a";
  const nlohmann::json* pool = JsonAtPath(report, "limit.pool");
  return (pool != nullptr && pool->is_string() ? pool->get<std::string>() + ": " : std::string()) +
         l->get<std::string>();
}

}  // namespace

nlohmann::json ComparisonToJson(const std::vector<std::string>& names,
                                const std::vector<nlohmann::json>& reports) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const MetricRow& m : kMetrics) {
    nlohmann::json values = nlohmann::json::array(), ratios = nlohmann::json::array();
    bool any = false;
    const std::optional<double> base = Value(reports[0], m);
    for (const auto& r : reports) {
      const std::optional<double> v = Value(r, m);
      any |= v.has_value();
      values.push_back(v ? nlohmann::json(*v) : nlohmann::json(nullptr));
      ratios.push_back(v && base && *base != 0 ? nlohmann::json(*v / *base)
                                               : nlohmann::json(nullptr));
    }
    if (any) metrics.push_back({{"metric", m.path}, {"values", values}, {"ratios", ratios}});
  }
  nlohmann::json limits = nlohmann::json::array();
  for (const auto& r : reports) limits.push_back(Limit(r));
  return {{"scenarios", names}, {"metrics", metrics}, {"limits", limits}};
}

std::string ComparisonToText(const std::vector<std::string>& names,
                             const std::vector<nlohmann::json>& reports, double notable) {
  std::string s;
  constexpr int kLabel = 24, kCell = 22;
  // Columns are lettered (names are long and often share a prefix); the legend names them.
  auto letter = [](size_t i) {
    return i < 26 ? std::string(1, char('A' + i)) : absl::StrCat("S", i + 1);
  };
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&s, letter(i), ": ", names[i], i == 0 ? " (base)" : "", "\n");
  }
  absl::StrAppendFormat(&s, "\n%-*s", kLabel, "");
  for (size_t i = 0; i < names.size(); ++i) absl::StrAppendFormat(&s, " %*s", kCell, letter(i));
  absl::StrAppend(&s, "\n");
  for (const MetricRow& m : kMetrics) {
    const std::optional<double> base = Value(reports[0], m);
    std::string line = absl::StrFormat("%-*s", kLabel, m.label);
    bool any = false;
    for (size_t i = 0; i < reports.size(); ++i) {
      const std::optional<double> v = Value(reports[i], m);
      any |= v.has_value();
      std::string cell = v ? absl::StrFormat("%.4g", *v) : std::string("n/a");
      if (i > 0 && v && base && *base != 0) {
        const double ratio = *v / *base;
        absl::StrAppendFormat(&cell, " (x%.2f%s)", ratio,
                              std::fabs(ratio - 1) >= notable ? "!" : " ");
      } else if (i > 0) {
        absl::StrAppend(&cell, "         ");
      }
      absl::StrAppendFormat(&line, " %*s", kCell, cell);
    }
    if (any) absl::StrAppend(&s, line, "\n");
  }
  absl::StrAppend(&s, "\n(xR: ratio to the base; ! marks a change of ", notable * 100,
                  " % or more)\n\nlimit\n");
  const std::string base_limit = Limit(reports[0]);
  for (size_t i = 0; i < reports.size(); ++i) {
    const std::string l = Limit(reports[i]);
    absl::StrAppendFormat(&s, "  %-3s %s%s\n", letter(i), l,
                          i == 0            ? " (base)"
                          : l == base_limit ? " (unchanged)"
                                            : absl::StrCat("  <- changed from ", base_limit));
  }
  return s;
}

}  // namespace moesim
