// The committed InferenceX reference set (scenarios/reference/inferencex/) is exactly what
// make_reference_set generates from the CSV and the recipes: the test runs the binary into a
// temporary folder and compares every file byte for byte, both ways.
//
// The CSV lives outside the repository (../shared/reference/measurements/); where it is absent
// the test warns and checks nothing.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

namespace {

namespace fs = std::filesystem;

// Scenarios the current CSV and recipes give: 167 aggregated and 155 disaggregated, 124 of them
// MTP rows (70 disaggregated); 7 rows are skipped (make_reference_set's summary says why).
constexpr int kExpectedScenarios = 322;

std::map<std::string, std::string> ReadFolder(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    files[e.path().filename().string()] = text.str();
  }
  return files;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult Run(const std::string& cmd) {
  CommandResult r;
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST_CASE(
    "make_reference_set regenerates the committed scenarios/reference/inferencex/ "
    "byte for byte",
    "[calibrate]") {
  if (!fs::exists(MOESIM_REFERENCE_CSV)) {
    WARN("no " MOESIM_REFERENCE_CSV ": cannot regenerate the reference set");
    return;
  }
  const fs::path out =
      fs::temp_directory_path() / ("moesim-reference-set-" + std::to_string(getpid()));
  fs::remove_all(out);
  const CommandResult r =
      Run(std::string("'") + MAKE_REFERENCE_SET_BINARY + "' '" + MOESIM_REFERENCE_CSV +
          "' '" MOESIM_SOURCE_DIR
          "/docs/research/inferencex_recipes.json' --disagg-recipes '" MOESIM_SOURCE_DIR
          "/docs/research/inferencex_disagg_recipes.json' --out '" +
          out.string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("wrote " + std::to_string(kExpectedScenarios) + " scenarios") !=
        std::string::npos);

  const auto generated = ReadFolder(out);
  const auto committed = ReadFolder(MOESIM_SOURCE_DIR "/scenarios/reference/inferencex");
  int scenarios = 0;
  for (const auto& [name, text] : generated) {
    if (fs::path(name).extension() == ".json") ++scenarios;
  }
  CHECK(scenarios == kExpectedScenarios);
  CHECK(generated.count("README.md") == 1);
  for (const auto& [name, text] : generated) {
    INFO(name << ": generated but not committed, or different (run make_reference_set and "
                 "commit scenarios/reference/inferencex/)");
    const auto it = committed.find(name);
    REQUIRE(it != committed.end());
    CHECK(it->second == text);
  }
  for (const auto& [name, text] : committed) {
    INFO(name << ": committed but no longer generated");
    CHECK(generated.count(name) == 1);
  }
  fs::remove_all(out);
}

TEST_CASE("make_reference_set rejects a missing input with exit code 2", "[calibrate]") {
  const CommandResult r = Run(std::string("'") + MAKE_REFERENCE_SET_BINARY +
                              "' /nonexistent.csv /nonexistent.json --out /tmp/unused");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("/nonexistent.csv: cannot read") != std::string::npos);
}

}  // namespace
