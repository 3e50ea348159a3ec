#include "tools/sweep_writers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/report_writers.h"

namespace moesim {

namespace {

// A number cell (scaled), or "" for null / absent.
std::string Num(const nlohmann::json& j, const char* key, double scale = 1) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return "";
  return absl::StrFormat("%.6g", j[key].get<double>() * scale);
}

std::string AxisText(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Width of each axis column of the text tables: its name's or its widest value's, at least 8.
std::vector<size_t> AxisWidths(const nlohmann::json& sweep) {
  std::vector<size_t> widths;
  for (const auto& c : sweep["columns"]) {
    size_t w = std::max<size_t>(8, c.get<std::string>().size());
    for (const auto& p : sweep["plans"]) {
      w = std::max(w, AxisText(p["axes"][c.get<std::string>()]).size());
    }
    widths.push_back(w);
  }
  return widths;
}

// The first columns of a text table's header (plan number, then each axis, `widths` wide) and of
// a plan's row (`*` on the frontier, its number, its axis values).
std::string AxisHead(const nlohmann::json& sweep, const std::vector<size_t>& widths) {
  std::string head = "     #  ";
  for (size_t c = 0; c < widths.size(); ++c) {
    absl::StrAppendFormat(&head, "%-*s ", widths[c], sweep["columns"][c].get<std::string>());
  }
  return head;
}

std::string AxisCells(const nlohmann::json& sweep, const std::vector<size_t>& widths,
                      const nlohmann::json& p) {
  std::string line =
      absl::StrFormat("%s %4d  ", p.value("on_frontier", false) ? "*" : " ", p["index"].get<int>());
  for (size_t c = 0; c < widths.size(); ++c) {
    absl::StrAppendFormat(&line, "%-*s ", widths[c],
                          AxisText(p["axes"][sweep["columns"][c].get<std::string>()]));
  }
  return line;
}

// One CSV line of `cells` (quoted where needed).
std::string CsvLine(std::vector<std::string> cells) {
  for (auto& c : cells) c = CsvField(c);
  return absl::StrCat(absl::StrJoin(cells, ","), "\n");
}

// A plan's first CSV cells: its number, its axis values, its state.
std::vector<std::string> PlanCells(const nlohmann::json& sweep, const nlohmann::json& p) {
  std::vector<std::string> row = {std::to_string(p["index"].get<size_t>())};
  for (const auto& c : sweep["columns"]) row.push_back(AxisText(p["axes"][c.get<std::string>()]));
  row.push_back(p["state"].get<std::string>());
  return row;
}

bool IsRlvr(const nlohmann::json& sweep) { return sweep.value("kind", std::string()) == "rlvr"; }

// The per-plan columns of an RLVR sweep (engine/sweep_rlvr.h) after index, axes, state and GPUs.
constexpr const char* kRlvrColumns[] = {"step_time_s",
                                        "rollout_s",
                                        "rollout_slowest_10pct_s",
                                        "training_s",
                                        "weight_sync_s",
                                        "switch_s",
                                        "usd_per_step",
                                        "gpu_hours_per_step",
                                        "steps_per_day",
                                        "response_tokens_per_step",
                                        "rollout_usd_per_million_tokens"};

std::vector<std::string> SloNames(const nlohmann::json& sweep) {
  std::vector<std::string> slos;
  for (const auto& b : sweep["best"]) {
    if (!b["slo"].is_null()) slos.push_back(b["slo"].get<std::string>());
  }
  return slos;
}

std::string RlvrSweepToCsv(const nlohmann::json& sweep) {
  std::vector<std::string> header = {"index"};
  for (const auto& c : sweep["columns"]) header.push_back(c.get<std::string>());
  header.push_back("state");
  header.push_back("gpus");
  for (const char* h : kRlvrColumns) header.push_back(h);
  header.push_back("limit");
  const std::vector<std::string> slos = SloNames(sweep);
  for (const auto& s : slos) header.push_back("meets_" + s);
  header.push_back("on_frontier");
  header.push_back("reason");
  std::string out = CsvLine(header);
  for (const auto& p : sweep["plans"]) {
    std::vector<std::string> row = PlanCells(sweep, p);
    const nlohmann::json sim = p.contains("simulated") ? p["simulated"] : nlohmann::json();
    row.push_back(sim.is_object() ? std::to_string(sim["gpus"].get<int>()) : "");
    for (const char* k : kRlvrColumns) row.push_back(Num(sim, k));
    row.push_back(sim.is_object() ? sim["limit"].get<std::string>() : "");
    for (const auto& s : slos) {
      row.push_back(p.contains("meets_slo") ? (p["meets_slo"][s].get<bool>() ? "yes" : "no") : "");
    }
    row.push_back(p.contains("on_frontier") ? (p["on_frontier"].get<bool>() ? "yes" : "no") : "");
    row.push_back(p["reason"].get<std::string>());
    absl::StrAppend(&out, CsvLine(row));
  }
  return out;
}

// The skip reasons and the best plans: the parts of the text both kinds of sweep share.
std::string SkipReasonsText(const nlohmann::json& sweep) {
  std::string s;
  if (!sweep["skip_reasons"].empty()) {
    absl::StrAppend(&s, "\nskipped (plans: reason)\n");
    for (const auto& [reason, n] : sweep["skip_reasons"].items()) {
      absl::StrAppendFormat(&s, "  %4d: %s\n", n.get<int>(), reason);
    }
  }
  return s;
}

std::string BestPlansText(const nlohmann::json& sweep) {
  std::string s = absl::StrCat("\nbest plan by ", sweep["objective"].get<std::string>(), "\n");
  for (const auto& b : sweep["best"]) {
    absl::StrAppendFormat(
        &s, "  %-14s %s\n",
        b["slo"].is_null() ? std::string("(no SLO)") : b["slo"].get<std::string>(),
        b["reason"].get<std::string>());
  }
  return s;
}

std::string RlvrSweepToText(const nlohmann::json& sweep) {
  const auto& counts = sweep["counts"];
  std::string s = absl::StrFormat(
      "%d RLVR plans: %d simulated, %d skipped, %d failed (no screen: every valid plan is "
      "simulated)\n",
      sweep["plans"].size(), counts["simulated"].get<int>(), counts["skipped"].get<int>(),
      counts["failed"].get<int>());
  absl::StrAppend(&s, SkipReasonsText(sweep));
  absl::StrAppend(&s,
                  "\nsimulated plans (mean step; * on the frontier of step time against $ per "
                  "step)\n");
  const std::vector<size_t> widths = AxisWidths(sweep);
  std::string head = AxisHead(sweep, widths);
  absl::StrAppendFormat(&head, "%5s %9s %9s %9s %8s %9s %9s %8s  %s\n", "GPUs", "step s",
                        "rollout s", "train s", "sync s", "switch s", "$/step", "steps/d", "limit");
  absl::StrAppend(&s, head);
  for (const auto& p : sweep["plans"]) {
    const std::string state = p["state"].get<std::string>();
    if (state != "simulated" && state != "failed") continue;
    std::string line = AxisCells(sweep, widths, p);
    if (state == "failed") {
      absl::StrAppend(&s, line, "failed: ", p["reason"].get<std::string>(), "\n");
      continue;
    }
    const auto& m = p["simulated"];
    absl::StrAppendFormat(&line, "%5d %9.4g %9.4g %9.4g %8.3g %9.3g %9.4g %8.3g  %s\n",
                          m["gpus"].get<int>(), m["step_time_s"].get<double>(),
                          m["rollout_s"].get<double>(), m["training_s"].get<double>(),
                          m["weight_sync_s"].get<double>(), m["switch_s"].get<double>(),
                          m["usd_per_step"].get<double>(), m["steps_per_day"].get<double>(),
                          m["limit"].get<std::string>());
    absl::StrAppend(&s, line);
  }
  absl::StrAppend(&s, BestPlansText(sweep));
  return s;
}

}  // namespace

std::string SweepJsonToCsv(const nlohmann::json& sweep) {
  if (IsRlvr(sweep)) return RlvrSweepToCsv(sweep);
  std::vector<std::string> header = {"index"};
  for (const auto& c : sweep["columns"]) header.push_back(c.get<std::string>());
  for (const char* h :
       {"state", "gpus", "output_tok_per_s_per_gpu", "tok_per_s_per_user", "ttft_p50_s",
        "ttft_p90_s", "tpot_p50_ms", "tpot_p90_ms", "usd_per_million_output_tokens", "limit"}) {
    header.push_back(h);
  }
  const std::vector<std::string> slos = SloNames(sweep);
  for (const auto& s : slos) header.push_back("meets_" + s);
  for (const char* h :
       {"on_frontier", "screen_output_tok_per_s_per_gpu", "screen_tok_per_s_per_user",
        "screen_shortfall_pct", "screen_error_pct", "reason"}) {
    header.push_back(h);
  }
  std::string out = CsvLine(header);
  for (const auto& p : sweep["plans"]) {
    std::vector<std::string> row = PlanCells(sweep, p);
    const nlohmann::json sim = p.contains("simulated") ? p["simulated"] : nlohmann::json();
    const nlohmann::json screen = p.contains("screen") ? p["screen"] : nlohmann::json();
    row.push_back(sim.is_object()      ? std::to_string(sim["gpus"].get<int>())
                  : screen.is_object() ? std::to_string(screen["gpus"].get<int>())
                                       : "");
    row.push_back(Num(sim, "output_tok_per_s_per_gpu"));
    row.push_back(Num(sim, "tok_per_s_per_user"));
    row.push_back(Num(sim, "ttft_p50_s"));
    row.push_back(Num(sim, "ttft_p90_s"));
    row.push_back(Num(sim, "tpot_p50_s", 1e3));
    row.push_back(Num(sim, "tpot_p90_s", 1e3));
    row.push_back(Num(sim, "usd_per_million_output_tokens"));
    row.push_back(sim.is_object() ? sim["limit"].get<std::string>() : "");
    for (const auto& s : slos) {
      row.push_back(p.contains("meets_slo") ? (p["meets_slo"][s].get<bool>() ? "yes" : "no") : "");
    }
    row.push_back(p.contains("on_frontier") ? (p["on_frontier"].get<bool>() ? "yes" : "no") : "");
    row.push_back(Num(screen, "output_tok_per_s_per_gpu"));
    row.push_back(Num(screen, "tok_per_s_per_user"));
    row.push_back(Num(screen, "shortfall_pct"));
    row.push_back(Num(p, "screen_error_pct"));
    row.push_back(p["reason"].get<std::string>());
    absl::StrAppend(&out, CsvLine(row));
  }
  return out;
}

std::string SweepJsonToText(const nlohmann::json& sweep) {
  if (IsRlvr(sweep)) return RlvrSweepToText(sweep);
  std::string s;
  const auto& counts = sweep["counts"];
  const size_t plans = sweep["plans"].size();
  absl::StrAppendFormat(
      &s, "%d plans: %d simulated, %d screened out, %d skipped, %d failed%s\n", plans,
      counts["simulated"].get<int>(), counts["screened_out"].get<int>(),
      counts["skipped"].get<int>(), counts["failed"].get<int>(),
      counts["screened"].get<int>() > 0
          ? absl::StrFormat(", %d screened only (not simulated)", counts["screened"].get<int>())
          : std::string());
  absl::StrAppend(&s, SkipReasonsText(sweep));
  // Simulated (and failed) plans: their axes and headline numbers; * marks the frontier.
  absl::StrAppend(&s,
                  "\nsimulated plans (* on the Pareto frontier of tok/s per GPU against "
                  "tok/s per user)\n");
  const std::vector<size_t> widths = AxisWidths(sweep);
  std::string head = AxisHead(sweep, widths);
  absl::StrAppendFormat(&head, "%5s %10s %9s %9s %9s %9s %8s  %s\n", "GPUs", "tok/s/GPU",
                        "tok/s/usr", "TTFT p90", "TPOT p90", "$/Mtok", "screen", "limit");
  absl::StrAppend(&s, head);
  std::vector<double> screen_errors;
  for (const auto& p : sweep["plans"]) {
    const std::string state = p["state"].get<std::string>();
    if (state != "simulated" && state != "failed") continue;
    std::string line = AxisCells(sweep, widths, p);
    if (state == "failed") {
      absl::StrAppend(&line, "failed: ", p["reason"].get<std::string>(), "\n");
      absl::StrAppend(&s, line);
      continue;
    }
    const auto& m = p["simulated"];
    auto opt = [&](const char* k, double scale, const char* unit) {
      return m[k].is_null() ? std::string("n/a")
                            : absl::StrFormat("%.3g%s", m[k].get<double>() * scale, unit);
    };
    const std::string err = p["screen_error_pct"].is_null()
                                ? std::string("n/a")
                                : absl::StrFormat("%+.0f%%", p["screen_error_pct"].get<double>());
    if (!p["screen_error_pct"].is_null())
      screen_errors.push_back(std::fabs(p["screen_error_pct"].get<double>()));
    absl::StrAppendFormat(
        &line, "%5d %10.4g %9.4g %9s %9s %9s %8s  %s\n", m["gpus"].get<int>(),
        m["output_tok_per_s_per_gpu"].get<double>(), m["tok_per_s_per_user"].get<double>(),
        opt("ttft_p90_s", 1, " s"), opt("tpot_p90_s", 1e3, " ms"),
        opt("usd_per_million_output_tokens", 1, ""), err, m["limit"].get<std::string>());
    absl::StrAppend(&s, line);
  }
  if (!screen_errors.empty()) {
    std::sort(screen_errors.begin(), screen_errors.end());
    absl::StrAppendFormat(&s,
                          "\nscreen (analytic estimate) against simulation, output tok/s per GPU: "
                          "median |error| %.0f%%, worst %.0f%% over %d plans\n",
                          screen_errors[screen_errors.size() / 2], screen_errors.back(),
                          screen_errors.size());
  }
  if (counts["screened_out"].get<int>() > 0) {
    double least = 1e300, most = 0;
    for (const auto& p : sweep["plans"]) {
      if (p["state"] != "screened_out") continue;
      least = std::min(least, p["screen"]["shortfall_pct"].get<double>());
      most = std::max(most, p["screen"]["shortfall_pct"].get<double>());
    }
    absl::StrAppendFormat(&s,
                          "%d plans screened out, %.0f%% to %.0f%% below the screened frontier "
                          "(every plan's screen is in --json / --csv)\n",
                          counts["screened_out"].get<int>(), least, most);
  }
  absl::StrAppend(&s, BestPlansText(sweep));
  return s;
}

}  // namespace moesim
