// moesim: the command-line front end. The only place that parses flags and turns errors into
// exit codes: 0 ok, 2 bad input (scenario, preset or flag), 1 internal error, 3 `validate` found
// a prediction outside its tolerance.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "engine/scenario.h"
#include "engine/simulation.h"
#include "engine/step_breakdown.h"
#include "engine/subprocess.h"
#include "engine/trace_recorder.h"
#include "engine/validation.h"
#include "models/fabric_spec.h"
#include "models/gpu_spec.h"
#include "models/kv_connector.h"
#include "models/kv_storage.h"
#include "models/preset_library.h"
#include "tools/cli_support.h"
#include "tools/compare_writer.h"
#include "tools/html_report.h"
#include "tools/long_run_notice.h"
#include "tools/progress_bar.h"
#include "tools/report_writers.h"
#include "tools/sweep_command.h"

#ifndef MOESIM_VERSION
#define MOESIM_VERSION "unknown"
#endif

namespace {

using moesim::PresetKind;
using moesim::PresetLibrary;

using moesim::CheckWritable;
using moesim::Fail;
using moesim::kExitBadInput;
using moesim::kExitInternal;
using moesim::kExitOk;
using moesim::kExitOutOfTolerance;
using moesim::WriteFile;

// The subcommands, for naming an unknown one.
constexpr const char* kCommands[] = {"run",  "validate", "explain", "presets",
                                     "step", "sweep",    "compare"};

// The first argument that is not an option (nor --presets's value), or "" if none.
std::string CommandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--presets") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    return a;
  }
  return "";
}

// What `run --trace` asked for.
struct TraceRequest {
  std::string path;                            // empty: no trace
  std::pair<double, double> window{0, 1e300};  // simulated seconds kept
  moesim::TraceCollectives collectives = moesim::TraceCollectives::kPerStep;
};

int CmdRun(const PresetLibrary& presets, const std::string& path, const std::string& json_out,
           const std::string& csv_out, const std::string& timeseries_out,
           const TraceRequest& trace_request, const std::string& html_out, bool quiet) {
  const std::string& trace_out = trace_request.path;
  auto scenario = moesim::LoadScenario(path, presets);
  if (!scenario.ok()) return Fail(scenario.status());
  for (const std::string& out : {json_out, csv_out, timeseries_out, trace_out, html_out}) {
    if (absl::Status s = CheckWritable(out); !s.ok()) return Fail(s);
  }
  // A report written to standard output replaces the text report there; one at most.
  const int to_stdout =
      (json_out == "-") + (csv_out == "-") + (timeseries_out == "-") + (trace_out == "-");
  if (to_stdout > 1) {
    return Fail(absl::InvalidArgumentError(
        "--json, --csv, --timeseries and --trace: got '-' (standard output) for " +
        std::to_string(to_stdout) + " of them, expected at most one"));
  }
  if (to_stdout == 1) quiet = true;
  // A progress line on a terminal for runs longer than a couple of seconds.
  moesim::ProgressBar bar("", 1, !quiet);
  // And, on a terminal or not, one notice when the run's pace says it will be long.
  moesim::LongRunNotice notice(!quiet);
  moesim::RunOptions options;
  options.progress = [&bar, &notice](double simulated, double duration, int64_t finished) {
    bar.Update(simulated / duration, absl::StrFormat("%.0f of %.0f simulated s, %d requests done",
                                                     simulated, duration, finished));
    notice.Update(simulated / duration);
  };
  // The trace goes to its file as the run goes; a run that fails leaves none.
  std::unique_ptr<std::ofstream> trace_file;
  std::unique_ptr<moesim::TraceRecorder> trace;
  if (!trace_out.empty()) {
    std::ostream* to = &std::cout;
    if (trace_out != "-") {
      trace_file = std::make_unique<std::ofstream>(trace_out, std::ios::binary | std::ios::trunc);
      to = trace_file.get();
    }
    trace = std::make_unique<moesim::TraceRecorder>(
        trace_request.window.first, trace_request.window.second, to, trace_request.collectives);
    options.trace = trace.get();
  }
  auto report = moesim::RunSimulation(*scenario, options);
  bar.Finish();
  if (!report.ok()) {
    if (trace_file) {
      trace.reset();  // its writer thread first, then the file it writes to
      trace_file.reset();
      std::remove(trace_out.c_str());
    }
    return Fail(report.status());
  }
  // The trace's writer thread ends before anything else is written.
  if (trace && !trace->Finish()) {
    return Fail(absl::InvalidArgumentError(trace_out + ": cannot write"));
  }
  (*report)["meta"] = moesim::RunMeta(*scenario, path, MOESIM_VERSION);
  if (!quiet) std::cout << moesim::ReportToText(*report);
  if (!json_out.empty() && !WriteFile(json_out, moesim::ReportToJson(*report))) {
    return Fail(absl::InvalidArgumentError(json_out + ": cannot write"));
  }
  if (!csv_out.empty() && !WriteFile(csv_out, moesim::ReportToCsv(*report))) {
    return Fail(absl::InvalidArgumentError(csv_out + ": cannot write"));
  }
  if (!html_out.empty()) {
    auto html = moesim::ReportToHtml(*report);
    if (!html.ok()) return Fail(html.status());
    if (!WriteFile(html_out, *html)) {
      return Fail(absl::InvalidArgumentError(html_out + ": cannot write"));
    }
  }
  if (!timeseries_out.empty() && !WriteFile(timeseries_out, moesim::TimeSeriesToCsv(*report))) {
    return Fail(absl::InvalidArgumentError(timeseries_out + ": cannot write"));
  }
  return kExitOk;
}

int CmdStep(const PresetLibrary& presets, const std::string& path, int64_t seqs, double context) {
  auto scenario = moesim::LoadScenario(path, presets);
  if (!scenario.ok()) return Fail(scenario.status());
  auto step = moesim::DescribeDecodeStep(*scenario, seqs, context);
  if (!step.ok()) return Fail(step.status());
  const auto& j = *step;
  std::printf(
      "decode step: %lld sequences of %.0f tokens, %s launch, %lld kernels: %.3f ms "
      "(host %.3f, launch %.3f, communication %.3f)\n",
      static_cast<long long>(seqs), context, j["launch"].get<std::string>().c_str(),
      static_cast<long long>(j["kernels_per_step"].get<int64_t>()), j["step_ms"].get<double>(),
      j["host_ms"].get<double>(), j["launch_ms"].get<double>(),
      j["communication_ms"].get<double>());
  for (const auto& b : j["blocks"]) {
    std::printf("\nblock %d (x%d): %.1f us\n", b["block"].get<int>(), b["uses"].get<int>(),
                b["us"].get<double>());
    std::printf("  %-26s %-16s %7s %10s %12s %9s  %s\n", "op", "class", "kernels", "GFLOP", "MB",
                "us", "bound");
    for (const auto& op : b["ops"]) {
      std::printf("  %-26s %-16s %7d %10.3f %12.3f %9.2f  %s\n",
                  op["name"].get<std::string>().c_str(), op["class"].get<std::string>().c_str(),
                  op["kernels"].get<int>(), op["flops"].get<double>() / 1e9,
                  (op["bytes"].get<double>() + op["message_bytes"].get<double>()) / 1e6,
                  op["us"].get<double>(), op["bound"].get<std::string>().c_str());
    }
  }
  return kExitOk;
}

int CmdExplain(const PresetLibrary& presets, const std::string& path) {
  auto scenario = moesim::LoadScenario(path, presets);
  if (!scenario.ok()) return Fail(scenario.status());
  std::cout << moesim::ScenarioToJson(*scenario).dump(2) << "\n";
  return kExitOk;
}

// Runs every reference scenario in `dir` (not recursive), prints one line per reference (unless
// `summary_only`) and the per-metric error summary, and writes rows + summary to `json_out`.
int CmdValidate(const PresetLibrary& presets, const std::string& dir, int jobs, bool summary_only,
                const std::string& json_out) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  if (ec) return Fail(absl::NotFoundError(dir + ": cannot read directory"));
  std::sort(files.begin(), files.end());
  std::vector<moesim::Scenario> scenarios;
  for (const auto& f : files) {
    auto s = moesim::LoadScenario(f, presets);
    if (!s.ok()) return Fail(s.status());
    if (s->references.empty()) {
      return Fail(absl::InvalidArgumentError(f + ": $.reference: a reference scenario needs at "
                                                 "least one published measurement"));
    }
    scenarios.push_back(std::move(*s));
  }
  if (scenarios.empty()) return Fail(absl::NotFoundError(dir + ": no scenario files (*.json)"));
  std::vector<moesim::SubprocessJob> work;
  for (const auto& s : scenarios) {
    work.push_back([&s]() -> absl::StatusOr<std::string> {
      auto r = moesim::RunSimulation(s);
      if (!r.ok()) return r.status();
      return r->dump();
    });
  }
  const auto results = moesim::RunInSubprocesses(work, jobs);
  std::vector<moesim::ScenarioValidation> validated;
  int name_width = 34;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    if (!results[i].ok()) return Fail(results[i].status());
    const auto report = nlohmann::json::parse(*results[i]);
    auto rows = moesim::CompareWithReferences(scenarios[i], report);
    if (!rows.ok()) return Fail(rows.status());
    validated.push_back({scenarios[i].name, moesim::LabelsFor(scenarios[i]), std::move(*rows)});
    name_width = std::max(name_width, static_cast<int>(scenarios[i].name.size()));
  }
  bool all_pass = true;
  if (!summary_only) {
    std::printf("%-*s %-36s %12s %12s %8s %6s  %s\n", name_width, "scenario", "metric", "measured",
                "predicted", "error%", "tol%", "result");
  }
  for (const auto& v : validated) {
    for (const auto& r : v.rows) {
      all_pass = all_pass && r.pass;
      if (summary_only) continue;
      std::printf("%-*s %-36s %12.6g %12.6g %+8.1f %6.1f  %s\n", name_width, r.scenario.c_str(),
                  r.metric.c_str(), r.measured, r.predicted, r.error_pct, r.tolerance_pct,
                  r.pass ? "pass" : "FAIL");
    }
  }
  const moesim::ValidationSummary summary = moesim::SummarizeValidation(validated);
  std::printf("%s%s\n", summary_only ? "" : "\n", moesim::FormatValidationSummary(summary).c_str());
  if (!json_out.empty()) {
    const nlohmann::json doc = {{"rows", moesim::ValidationRowsToJson(validated)},
                                {"summary", moesim::ValidationSummaryToJson(summary)}};
    if (!WriteFile(json_out, doc.dump(2) + "\n")) {
      return Fail(absl::InvalidArgumentError(json_out + ": cannot write"));
    }
  }
  std::printf("%s\n", all_pass ? "all predictions within tolerance"
                               : "some predictions are outside their tolerance");
  return all_pass ? kExitOk : kExitOutOfTolerance;
}

int CmdPresets(const PresetLibrary& presets) {
  std::printf("GPUs (dense TFLOP/s; HBM; power; price)\n");
  std::printf("  %-8s %8s %8s %8s %9s %9s %7s %8s %6s\n", "name", "bf16", "fp8", "fp4", "HBM GB",
              "HBM TB/s", "TDP W", "$/GPU-h", "domain");
  for (const auto& name : presets.Names(PresetKind::kGpu)) {
    // Parsed and validated as `run` does: a user's preset folder may miss keys.
    auto g = moesim::ParseGpuSpec(*presets.Find(PresetKind::kGpu, name), {"gpus.json", "$." + name},
                                  name);
    if (!g.ok()) return Fail(g.status());
    std::printf("  %-8s %8.0f %8.0f %8s %9.1f %9.2f %7.0f %8.2f %6d\n", name.c_str(),
                g->bf16_tflops, g->fp8_tflops,
                g->fp4_tflops ? absl::StrFormat("%.0f", *g->fp4_tflops).c_str() : "-", g->hbm_gb,
                g->hbm_tb_per_s, g->tdp_w, g->usd_per_hour, g->scaleup_domain_gpus);
  }
  std::printf("\nModels (derived from the architecture)\n");
  std::printf("  %-20s %6s %8s %6s %10s %10s %10s %12s\n", "name", "layers", "experts", "top-k",
              "total B", "active B", "weights GB", "KV B/token");
  for (const auto& name : presets.Names(PresetKind::kModel)) {
    auto m = moesim::ParseModelSpec(*presets.Find(PresetKind::kModel, name),
                                    {"models.json", "$." + name}, name);
    if (!m.ok()) return Fail(m.status());
    const moesim::KvFootprint fp(*m, 1, 1);
    std::printf("  %-20s %6d %8d %6d %10.1f %10.1f %10.1f %12.0f\n", name.c_str(), m->layers,
                m->moe.routed_experts, m->moe.top_k, m->TotalParams() / 1e9,
                m->ActiveParams() / 1e9, m->WeightBytes() / 1e9,
                m->KvBytesPerTokenPerLayer(1) * (m->CountLayers(moesim::LayerAttention::kFull) +
                                                 m->CountLayers(moesim::LayerAttention::kSliding)));
  }
  std::printf("\nRuntimes (serving stacks)\n");
  std::printf("  %-10s %-11s %-8s %12s %10s %16s %15s  %s\n", "name", "mode", "overlap",
              "eager gap us", "graph us", "graph host/step", "graph host/seq", "version");
  for (const auto& name : presets.Names(PresetKind::kRuntime)) {
    auto r = moesim::ParseRuntimeSpec(*presets.Find(PresetKind::kRuntime, name),
                                      {"runtimes.json", "$." + name}, name);
    if (!r.ok()) return Fail(r.status());
    std::printf("  %-10s %-11s %-8s %12.1f %10.1f %16.1f %15.1f  %s\n", name.c_str(),
                moesim::ExecutionModeName(r->mode), r->host_overlap ? "yes" : "no",
                r->eager_launch_gap_us, r->graph_launch_us, r->graph_host_step_us,
                r->graph_host_per_seq_us, r->version.c_str());
  }
  std::printf("\nFabrics (per direction; collectives: ring-step latency, protocol efficiency)\n");
  std::printf("  %-12s %10s %12s %12s %14s\n", "name", "GB/s", "hop us", "step us", "eff @1 MiB");
  for (const auto& name : presets.Names(PresetKind::kFabric)) {
    auto f = moesim::ParseFabricSpec(*presets.Find(PresetKind::kFabric, name),
                                     {"fabrics.json", "$." + name}, name);
    if (!f.ok()) return Fail(f.status());
    std::printf("  %-12s %10.0f %12.2f %12.2f %14.2f\n", name.c_str(), f->gb_per_s, f->latency_us,
                f->step_latency_us, f->protocol_efficiency.At(1 << 20));
  }
  std::printf("\nKV connectors (prefill -> decode KV transfers)\n");
  std::printf("  %-10s %10s %16s\n", "name", "setup us", "link efficiency");
  for (const auto& name : presets.Names(PresetKind::kKvConnector)) {
    auto c = moesim::ParseKvConnectorSpec(*presets.Find(PresetKind::kKvConnector, name),
                                          {"kv_connectors.json", "$." + name}, name);
    if (!c.ok()) return Fail(c.status());
    std::printf("  %-10s %10.1f %16.3f\n", name.c_str(), c->setup_us, c->link_efficiency);
  }
  std::printf("\nKV storage (a server's local SSDs as a KV tier; per server)\n");
  std::printf("  %-22s %7s %12s %10s %10s\n", "name", "drives", "capacity GB", "read GB/s",
              "write GB/s");
  for (const auto& name : presets.Names(PresetKind::kKvStorage)) {
    auto d = moesim::ParseKvStorageSpec(*presets.Find(PresetKind::kKvStorage, name),
                                        {"kv_storage.json", "$." + name}, name);
    if (!d.ok()) return Fail(d.status());
    std::printf("  %-22s %7d %12.0f %10.1f %10.1f\n", name.c_str(), d->drives, d->capacity_gb(),
                d->ReadBytesPerSecond() / 1e9, d->WriteBytesPerSecond() / 1e9);
  }
  std::printf(
      "\nEvery value's source: %s/{gpus,models,runtimes,fabrics,kv_connectors,kv_storage}.json\n",
      PresetLibrary::DefaultDir().c_str());

  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moesim: discrete-event simulator of disaggregated MoE decode on GPU clusters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("moesim ") + MOESIM_VERSION);
  std::string preset_dir = PresetLibrary::DefaultDir();
  app.add_option("--presets", preset_dir, "directory of preset JSON files")
      ->check(CLI::ExistingDirectory);

  std::string scenario_path, json_out, csv_out, dir;
  bool quiet = false;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* run = app.add_subcommand("run", "simulate a scenario and print its report");
  run->add_option("scenario", scenario_path, "scenario JSON file")->required();
  run->add_option("--json", json_out, "also write the report as JSON to this file (- : stdout)");
  run->add_option("--csv", csv_out, "also write the report as CSV to this file (- : stdout)");
  std::string timeseries_out;
  run->add_option("--timeseries", timeseries_out,
                  "write the time series (per interval: throughput, running, queued, KV use, "
                  "latencies, fabric load per tier) as CSV (- : stdout)");
  std::string trace_out, trace_window_text;
  bool trace_each_collective = false;
  CLI::Option* trace_option =
      run->add_option("--trace", trace_out,
                      "write a trace (Chrome trace-event JSON: open in ui.perfetto.dev) of steps, "
                      "requests and counters (- : stdout)");
  std::string html_out;
  run->add_option("--html", html_out,
                  "write a self-contained HTML report with charts (Chart.js inlined)");
  run->add_option("--trace-window", trace_window_text,
                  "START:END simulated seconds the trace keeps (default: the whole run)")
      ->needs(trace_option);
  run->add_flag("--trace-each-collective", trace_each_collective,
                "a slice for each collective (below kernel fidelity the trace merges a step's "
                "collectives into one slice per group and link tier)")
      ->needs(trace_option);
  run->add_flag("--quiet", quiet, "do not print the text report");
  auto* validate = app.add_subcommand(
      "validate", "run every reference scenario in DIR and compare with its measurements");
  validate->add_option("dir", dir, "directory of reference scenarios")->required();
  validate->add_option("--jobs", jobs, "simulations run in parallel (one process each)")
      ->check(CLI::Range(1, 64));
  bool summary_only = false;
  validate->add_flag("--summary-only", summary_only,
                     "print only the per-metric error summary, not one line per reference");
  validate->add_option("--json", json_out, "also write every row and the summary as JSON");
  auto* explain = app.add_subcommand(
      "explain", "print the fully resolved scenario, with every preset value and default");
  explain->add_option("scenario", scenario_path, "scenario JSON file")->required();
  auto* presets_cmd = app.add_subcommand("presets", "list GPU, model, runtime and fabric presets");
  int64_t step_seqs = 1;
  double step_context = 1024;
  auto* step = app.add_subcommand(
      "step", "where one steady decode step's time goes: every kernel of each layer kind, timed");
  step->add_option("scenario", scenario_path, "scenario JSON file")->required();
  step->add_option("--seqs", step_seqs, "decode sequences in the step")
      ->check(CLI::Range(1, 1 << 20));
  step->add_option("--context", step_context, "tokens each sequence holds")
      ->check(CLI::Range(0.0, 1e7));

  auto* sweep =
      app.add_subcommand("sweep",
                         "search the plans of a scenario's \"sweep\" section: screen every plan "
                         "analytically, simulate those near the Pareto frontier, report the table");
  sweep->add_option("scenario", scenario_path, "scenario JSON file with a sweep section")
      ->required();
  sweep->add_option("--jobs", jobs, "simulations run in parallel (one process each)")
      ->check(CLI::Range(1, 256));
  sweep->add_option("--json", json_out, "also write the table as JSON to this file (- : stdout)");
  sweep->add_option("--csv", csv_out, "also write the table as CSV to this file (- : stdout)");
  sweep->add_flag("--quiet", quiet, "no summary and no progress bar");
  std::string sweep_html;
  sweep->add_option("--html", sweep_html,
                    "write a self-contained HTML page: the Pareto chart and the best plans");
  bool screen_only = false;
  sweep->add_flag("--screen-only", screen_only,
                  "estimate every plan analytically and simulate none (seconds, not minutes)");
  std::vector<std::string> compare_paths;
  bool without_speculation = false;
  double notable_pct = moesim::kDefaultNotableChange * 100;
  auto* compare = app.add_subcommand(
      "compare", "run several scenarios and print their reports side by side, with ratios");
  compare->add_option("scenarios", compare_paths, "scenario JSON files (the first is the base)")
      ->required();
  compare->add_flag("--without-speculation", without_speculation,
                    "also run the first scenario with its speculative section removed");
  compare->add_option("--jobs", jobs, "simulations run in parallel (one process each)")
      ->check(CLI::Range(1, 256));
  compare->add_option("--notable", notable_pct, "mark ratios this many percent away from 1")
      ->check(CLI::Range(0.0, 1000.0));
  compare->add_option("--json", json_out, "also write the comparison as JSON (- : stdout)");
  compare->add_flag("--quiet", quiet, "no text table");
  std::string compare_html;
  compare->add_option("--html", compare_html,
                      "write a self-contained HTML page: ratios to the base, values, limits");

  if (const std::string word = CommandWord(argc, argv); !word.empty()) {
    bool known = false;
    for (const char* c : kCommands) known |= word == c;
    if (!known) {
      std::cerr << "moesim: unknown command \"" << word
                << "\" (commands: run, validate, explain, presets, step, sweep, compare; --help "
                   "for more)\n";
      return kExitBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    auto presets = PresetLibrary::Load(preset_dir);
    if (!presets.ok()) return Fail(presets.status());
    if (*run) {
      TraceRequest trace;
      trace.path = trace_out;
      if (trace_each_collective) trace.collectives = moesim::TraceCollectives::kEach;
      std::pair<double, double>& window = trace.window;
      if (!trace_window_text.empty()) {
        const size_t colon = trace_window_text.find(':');
        char* end = nullptr;
        bool ok = colon != std::string::npos && colon > 0 && colon + 1 < trace_window_text.size();
        if (ok) {
          // Named, so that `end` points into a string that is still alive when read.
          const std::string start_text = trace_window_text.substr(0, colon);
          const std::string end_text = trace_window_text.substr(colon + 1);
          window.first = std::strtod(start_text.c_str(), &end);
          ok = *end == '\0';
          window.second = std::strtod(end_text.c_str(), &end);
          ok = ok && *end == '\0' && window.first >= 0 && window.second > window.first;
        }
        if (!ok) {
          return Fail(absl::InvalidArgumentError(
              "--trace-window: got \"" + trace_window_text +
              "\", expected START:END in simulated seconds with 0 <= START < END"));
        }
      }
      return CmdRun(*presets, scenario_path, json_out, csv_out, timeseries_out, trace, html_out,
                    quiet);
    }
    if (*validate) return CmdValidate(*presets, dir, jobs, summary_only, json_out);
    if (*explain) return CmdExplain(*presets, scenario_path);
    if (*presets_cmd) return CmdPresets(*presets);
    if (*step) return CmdStep(*presets, scenario_path, step_seqs, step_context);
    if (*sweep)
      return moesim::CmdSweep(*presets, scenario_path, jobs, screen_only,
                              {json_out, csv_out, quiet, sweep_html});
    if (*compare) {
      return moesim::CmdCompare(*presets, compare_paths, without_speculation, jobs,
                                notable_pct / 100, json_out, compare_html, quiet);
    }
  } catch (const std::exception& e) {
    std::cerr << "moesim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
  return kExitInternal;
}
