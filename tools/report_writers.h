// Output formats of a run report: a human-readable text table, JSON, and CSV (one header row of
// flattened dotted keys and one row of values).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace moesim {

std::string ReportToText(const nlohmann::json& report);
std::string ReportToJson(const nlohmann::json& report);  // pretty, sorted keys, trailing newline
std::string ReportToCsv(const nlohmann::json& report);

// One CSV field: quoted (quotes doubled) when it holds a comma, a quote or a newline.
std::string CsvField(const std::string& s);

}  // namespace moesim
