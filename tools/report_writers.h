// Output formats of a run report: a human-readable text table, JSON, and CSV (one header row and
// one row of values, the columns of kCsvColumns, the same for every report so that the CSVs of
// many runs concatenate; a value the report does not have is an empty cell).
// Every key of a report is in its JSON.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace moesim {

std::string ReportToText(const nlohmann::json& report);
std::string ReportToJson(const nlohmann::json& report);  // pretty, sorted keys, trailing newline
std::string ReportToCsv(const nlohmann::json& report);

// The CSV's columns, dotted report paths: the run's meta (tools/cli_support.h RunMeta), the
// headline metrics of a serving report, those of a plan of several pools, and those of an RLVR
// report.
const std::vector<std::string>& CsvColumns();

// The report's time series (engine/time_series.h) as CSV: one row per interval, columns t_s,
// output_tok_per_s, running, queued, kv_utilisation, finished, ttft_p50_s, tpot_p50_s and
// <tier>_gb_per_s per fabric tier; empty cells where an interval has no finished request.
std::string TimeSeriesToCsv(const nlohmann::json& report);

// The value at a dotted report path ("latency_s.tpot.p50"), or nullptr when absent.
const nlohmann::json* JsonAtPath(const nlohmann::json& report, const std::string& dotted);

// One CSV field: quoted (quotes doubled) when it holds a comma, a quote or a newline.
std::string CsvField(const std::string& s);

}  // namespace moesim
