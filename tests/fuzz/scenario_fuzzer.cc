// libFuzzer target: the scenario parser and validator, fed arbitrary bytes as a scenario file.
//
// Each input goes the way `moesim run` reads a file: the JSON parser (models/json_reader: byte,
// line and column errors, bounded nesting), the scenario's validation against the shipped
// presets (engine/scenario), then, for inputs that are valid scenarios, the deployment of its
// pools on the cluster, the resolved scenario as JSON and the analytic plan screen (no SimGrid:
// one engine per process, and libFuzzer runs many inputs in one). Bad input must come back as
// an absl::Status; a crash, a sanitizer report, a broken MOESIM_CHECK, an uncaught exception or
// a hang is a finding.
//
// Built by tools/run_sanitizers.sh (CMake option MOESIM_FUZZ, clang, with ASan + UBSan); its seed
// corpus is the shipped scenarios:
//   build-asan/moesim_scenario_fuzzer -max_total_time=60 -max_len=65536 CORPUS_DIR scenarios/...
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/plan_screen.h"
#include "engine/scenario.h"
#include "models/json_reader.h"
#include "models/preset_library.h"

namespace {

const moesim::PresetLibrary& Presets() {
  static const moesim::PresetLibrary* presets = [] {
    auto loaded = moesim::PresetLibrary::Load(moesim::PresetLibrary::DefaultDir());
    if (!loaded.ok()) {
      std::fprintf(stderr, "scenario_fuzzer: presets: %s\n",
                   std::string(loaded.status().message()).c_str());
      std::abort();
    }
    return new moesim::PresetLibrary(std::move(*loaded));
  }();
  return *presets;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto doc = moesim::ParseJsonText(text, "fuzz.json");
  if (!doc.ok()) return 0;
  auto scenario = moesim::ParseScenario(*doc, "fuzz.json", Presets());
  if (!scenario.ok()) return 0;
  if (!moesim::DeployScenario(*scenario).ok()) return 0;
  (void)moesim::ScenarioToJson(*scenario).dump();
  (void)moesim::ScreenPlan(*scenario);
  return 0;
}
