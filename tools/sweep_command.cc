#include "tools/sweep_command.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "models/json_reader.h"
#include "tools/cli_support.h"
#include "tools/compare_writer.h"
#include "tools/html_report.h"
#include "tools/progress_bar.h"
#include "tools/sweep_writers.h"

namespace moesim {

namespace {

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseJsonText(text.str(), path);
}

}  // namespace

absl::StatusOr<Sweep> LoadSweep(const std::string& path, const PresetLibrary& presets) {
  auto doc = ReadJsonFile(path);
  if (!doc.ok()) return doc.status();
  return PrepareSweep(*doc, path, presets);
}

int WriteSweepResults(const Sweep& sweep, const SweepOutputs& out) {
  const nlohmann::json table = SweepToJson(sweep);
  const bool table_to_stdout = out.json == "-" || out.csv == "-";
  if (!out.quiet && !table_to_stdout) std::cout << SweepJsonToText(table);
  if (!out.json.empty() && !WriteFile(out.json, table.dump(2) + "\n")) {
    return Fail(absl::InvalidArgumentError(out.json + ": cannot write"));
  }
  if (!out.csv.empty() && !WriteFile(out.csv, SweepJsonToCsv(table))) {
    return Fail(absl::InvalidArgumentError(out.csv + ": cannot write"));
  }
  if (!out.html.empty()) {
    auto html = SweepToHtml(table);
    if (!html.ok()) return Fail(html.status());
    if (!WriteFile(out.html, *html)) {
      return Fail(absl::InvalidArgumentError(out.html + ": cannot write"));
    }
  }
  return kExitOk;
}

int CmdSweep(const PresetLibrary& presets, const std::string& path, int jobs, bool screen_only,
             const SweepOutputs& out) {
  for (const std::string& f : {out.json, out.csv, out.html}) {
    if (absl::Status s = CheckWritable(f); !s.ok()) return Fail(s);
  }
  auto sweep = LoadSweep(path, presets);
  if (!sweep.ok()) return Fail(sweep.status());
  if (screen_only && sweep->spec.rlvr) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": --screen-only: an RLVR sweep has no analytic screen (every valid "
                     "plan is simulated); run it without --screen-only")));
  }
  if (screen_only) sweep->SelectNone();
  const std::vector<size_t> selected = sweep->Selected();
  std::vector<SubprocessJob> work;
  for (size_t i : selected) {
    work.push_back([&sweep, i]() { return SimulatePlan(*sweep, i); });
  }
  const bool quiet = out.quiet || out.json == "-" || out.csv == "-";
  ProgressBar bar("plans simulated", work.size(), !quiet);
  const auto results =
      RunInSubprocesses(work, jobs, [&](size_t done, size_t failed) { bar.Update(done, failed); });
  bar.Finish();
  FinishSweep(*sweep, results);
  return WriteSweepResults(*sweep, out);
}

int CmdCompare(const PresetLibrary& presets, const std::vector<std::string>& paths,
               bool without_speculation, int jobs, double notable, const std::string& json_out,
               const std::string& html_out, bool quiet) {
  for (const std::string& f : {json_out, html_out}) {
    if (absl::Status s = CheckWritable(f); !s.ok()) return Fail(s);
  }
  std::vector<Scenario> scenarios;
  std::vector<std::string> names;
  for (const std::string& p : paths) {
    auto doc = ReadJsonFile(p);
    if (!doc.ok()) return Fail(doc.status());
    auto s = ParseScenario(*doc, p, presets);
    if (!s.ok()) return Fail(s.status());
    names.push_back(s->name);
    scenarios.push_back(std::move(*s));
    if (without_speculation && scenarios.size() == 1) {
      if (!doc->contains("speculative")) {
        return Fail(absl::InvalidArgumentError(
            absl::StrCat(p,
                         ": $.speculative: --without-speculation needs a scenario with a "
                         "\"speculative\" section")));
      }
      doc->erase("speculative");
      auto off = ParseScenario(*doc, p, presets);
      if (!off.ok()) return Fail(off.status());
      names.push_back(off->name + " (no speculation)");
      scenarios.push_back(std::move(*off));
    }
  }
  if (scenarios.size() < 2) {
    return Fail(absl::InvalidArgumentError(
        "compare needs two scenarios or more (or one with --without-speculation)"));
  }
  std::vector<SubprocessJob> work;
  for (const Scenario& s : scenarios) {
    work.push_back([&s]() -> absl::StatusOr<std::string> {
      auto r = RunSimulation(s);
      if (!r.ok()) return r.status();
      return r->dump();
    });
  }
  const bool to_stdout = json_out == "-";
  ProgressBar bar("scenarios run", work.size(), !quiet && !to_stdout);
  const auto results =
      RunInSubprocesses(work, jobs, [&](size_t done, size_t failed) { bar.Update(done, failed); });
  bar.Finish();
  std::vector<nlohmann::json> reports;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) {
      return Fail(absl::Status(results[i].status().code(),
                               absl::StrCat(names[i], ": ", results[i].status().message())));
    }
    reports.push_back(nlohmann::json::parse(*results[i]));
  }
  if (!quiet && !to_stdout) std::cout << ComparisonToText(names, reports, notable);
  if (!json_out.empty() && !WriteFile(json_out, ComparisonToJson(names, reports).dump(2) + "\n")) {
    return Fail(absl::InvalidArgumentError(json_out + ": cannot write"));
  }
  if (!html_out.empty()) {
    auto html = ComparisonToHtml(ComparisonToJson(names, reports));
    if (!html.ok()) return Fail(html.status());
    if (!WriteFile(html_out, *html)) {
      return Fail(absl::InvalidArgumentError(html_out + ": cannot write"));
    }
  }
  return kExitOk;
}

}  // namespace moesim
