// The trace shows the KV hierarchy's host copies (issue 18's offload I/O slices): swap saves and
// loads on the host link tier's track, from every GPU that holds a KV pool (a TP instance's
// first GPU; each rank of a DP-attention group), adding up to the bytes the report counts over
// the same window.
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/cli.h"

namespace moesim {
namespace {

struct HostSlices {
  std::map<std::string, double> bytes;  // by slice name
  std::set<int> gpus;                   // GPUs they come from
};

// Runs `scenario` with a trace of its measurement window; returns the host-tier slices and the
// report.
std::pair<HostSlices, nlohmann::json> RunTraced(const nlohmann::json& scenario,
                                                const std::string& tag) {
  const std::string file = "/tmp/moesim-kv-trace-" + tag + ".json";
  const std::string trace = "/tmp/moesim-kv-trace-" + tag + ".trace";
  const std::string report = "/tmp/moesim-kv-trace-" + tag + ".report.json";
  std::ofstream(file) << scenario.dump();
  const double warmup = scenario["simulation"]["warmup_s"].get<double>();
  const double duration = scenario["simulation"]["duration_s"].get<double>();
  const auto run = testing::RunMoesim("run --quiet " + file + " --trace " + trace +
                                      " --trace-window " + std::to_string(warmup) + ":" +
                                      std::to_string(duration) + " --json " + report);
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  HostSlices h;
  const auto t = nlohmann::json::parse(testing::ReadTextFile(trace));
  for (const auto& e : t["traceEvents"]) {
    if (e.value("cat", "") != "communication") continue;
    const std::string name = e["name"].get<std::string>();
    if (name.rfind("kv ", 0) != 0) continue;
    CHECK(e["tid"].get<int>() == 1000000 + 3);  // the host link tier's track
    h.bytes[name] += e["args"]["bytes"].get<double>();
    h.gpus.insert(e["args"]["from_gpu"].get<int>());
  }
  return {h, nlohmann::json::parse(testing::ReadTextFile(report))};
}

// scenarios/kv's 32K swap case, shortened, with `deployment` and HBM for KV cut so sequences
// are preempted and swapped.
nlohmann::json SwapScenario(const nlohmann::json& deployment) {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) +
                   "/scenarios/kv/qwen3-235b-h200-tp8-32k-swap.json");
  REQUIRE(in.good());
  nlohmann::json s = nlohmann::json::parse(in);
  s["deployment"] = deployment;
  s["runtime"]["memory_fraction"] = 0.5;
  s["simulation"]["duration_s"] = 200;
  s["simulation"]["warmup_s"] = 20;
  return s;
}

void CheckAgainstReport(const HostSlices& h, const nlohmann::json& report) {
  const nlohmann::json& link = report["kv_hierarchy"]["host_link"];
  const double to_host = link["to_host_gb"].get<double>() * 1e9;
  const double from_host = link["from_host_gb"].get<double>() * 1e9;
  INFO("report: " << to_host / 1e9 << " GB to host, " << from_host / 1e9 << " GB from host");
  REQUIRE(to_host > 1e9);
  REQUIRE(from_host > 1e9);
  // Slices that straddle the window's edges are kept whole: within a few percent.
  CHECK(h.bytes.at("kv save to host") == Approx(to_host).epsilon(0.05));
  CHECK(h.bytes.at("kv load from host") == Approx(from_host).epsilon(0.05));
}

TEST_CASE("trace: a TP instance's swap copies are slices on the host link tier",
          "[trace][kv-hierarchy]") {
  const auto [h, report] =
      RunTraced(SwapScenario({{"tensor_parallel", 8}, {"expert_parallel", 8}}), "tp8");
  CheckAgainstReport(h, report);
  CHECK(h.gpus == std::set<int>{0});
}

TEST_CASE("trace: each DP-attention rank's swap copies are slices on the host link tier",
          "[trace][kv-hierarchy][dp-attention]") {
  const auto [h, report] = RunTraced(
      SwapScenario(
          {{"attention", "data_parallel"}, {"tensor_parallel", 1}, {"expert_parallel", 8}}),
      "dpa-ep8");
  CheckAgainstReport(h, report);
  // Every rank holds sequences, so every rank's GPU swaps some.
  CHECK(h.gpus.size() >= 6);
}

}  // namespace
}  // namespace moesim
