// Golden outputs: every shipped scenario's headline numbers, checked against the expected-metrics
// file committed beside this test (tests/golden/<scenario path>.json).
//
// CTest runs this binary once per scenario (CMakeLists.txt: one test "golden:<path>" per file
// under scenarios/), naming it in MOESIM_GOLDEN_SCENARIO (a path relative to scenarios/), so each
// simulation has its own process (SimGrid: one engine per process).
//
// A changed number fails the test with the metric, the expected and the simulated value. When a
// change is intended, regenerate with tools/update_goldens.sh (MOESIM_UPDATE_GOLDEN=1) and say
// in the commit which numbers moved and why.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "engine/simulation.h"
#include "models/preset_library.h"
#include "tests/golden/headline_metrics.h"

namespace moesim {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

TEST_CASE("golden outputs: a shipped scenario's headline metrics are unchanged", "[golden]") {
  const std::string rel = Env("MOESIM_GOLDEN_SCENARIO");
  if (rel.empty()) {
    WARN("MOESIM_GOLDEN_SCENARIO is not set: CTest sets it, one test per shipped scenario");
    return;
  }
  const std::string scenario_path = std::string(MOESIM_SOURCE_DIR) + "/scenarios/" + rel;
  const std::string golden_path = GoldenPathFor(MOESIM_SOURCE_DIR, rel);
  INFO("scenario " << scenario_path << ", golden file " << golden_path);

  auto presets = PresetLibrary::Load(MOESIM_SOURCE_DIR "/models/presets");
  REQUIRE(presets.ok());
  auto scenario = LoadScenario(scenario_path, *presets);
  if (!scenario.ok()) FAIL(scenario.status().message());
  auto report = RunSimulation(*scenario);
  if (!report.ok()) FAIL(report.status().message());
  const nlohmann::json actual = HeadlineMetrics(*report);

  if (Env("MOESIM_UPDATE_GOLDEN") == "1") {
    std::filesystem::create_directories(std::filesystem::path(golden_path).parent_path());
    std::ofstream out(golden_path, std::ios::trunc);
    out << nlohmann::json{{"scenario", "scenarios/" + rel}, {"metrics", actual}}.dump(2) << "\n";
    REQUIRE(static_cast<bool>(out));
    WARN("wrote " << golden_path);
    return;
  }

  std::ifstream in(golden_path);
  if (!in) FAIL("no golden file: run tools/update_goldens.sh and commit " << golden_path);
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json expected = nlohmann::json::parse(text.str()).at("metrics");
  for (const auto& [metric, value] : expected.items()) {
    INFO("metric " << metric);
    REQUIRE(actual.contains(metric));
    CHECK(SameMetric(value, actual.at(metric)));
    if (!SameMetric(value, actual.at(metric))) {
      WARN(metric << ": expected " << value.dump() << ", simulated " << actual.at(metric).dump());
    }
  }
  for (const auto& [metric, value] : actual.items()) {
    INFO("metric " << metric << " is reported but missing from the golden file");
    CHECK(expected.contains(metric));
  }
}

}  // namespace
}  // namespace moesim
