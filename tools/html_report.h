// Self-contained HTML reports (issue 18): one file, no network access needed to open it — the
// chart library (Chart.js from Debian's libjs-chart.js, which tools/setup.sh installs) and the
// data are inlined.
//  * A run: the plan and its headline numbers, latency percentiles, the GPU time split (compute,
//    HBM, launch, host, communication, idle) as a stacked bar, the bounds per subsystem against
//    the achieved tok/s per GPU (the seed-002 view), fabric load per tier, and the time series
//    (throughput, running / queued, KV use, TTFT / TPOT medians, GB/s per tier) as line charts;
//    an RLVR run: its step split and steps.
//  * A sweep: the Pareto chart of tok/s per GPU against tok/s per user, the frontier highlighted
//    and each point's plan on hover, and the best plan per SLO.
//  * A comparison: every metric's ratio to the first scenario, and the values and limits.
// Once loaded, a page records on <body> how many charts it made, how many canvases it has and how
// many of them hold a painted pixel (data-charts, data-canvases, data-canvases-painted), so that
// a headless browser can tell the charts drew (tests/scenarios/html_browser_test.cc).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"

namespace moesim {

// Where Debian's libjs-chart.js puts the Chart.js UMD build.
inline constexpr const char* kChartJsPath = "/usr/share/javascript/chart.js/chart.min.js";

absl::StatusOr<std::string> ReportToHtml(const nlohmann::json& report,
                                         const std::string& chart_js_path = kChartJsPath);
absl::StatusOr<std::string> SweepToHtml(const nlohmann::json& sweep,
                                        const std::string& chart_js_path = kChartJsPath);
// `moesim compare` (tools/compare_writer.h ComparisonToJson): the plans side by side, each
// metric's ratio to the first as a bar chart, and the table of values and limits.
absl::StatusOr<std::string> ComparisonToHtml(const nlohmann::json& comparison,
                                             const std::string& chart_js_path = kChartJsPath);

}  // namespace moesim
