// `moesim sweep` and `moesim compare` through the command line: tables written, exit codes,
// no progress bar when output is not a terminal, ratios and limits side by side.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/cli.h"
#include "../support/rlvr_sweep_fixture.h"

namespace moesim {
namespace {

using testing::CommandResult;

CommandResult Run(const std::string& args) { return testing::RunMoesim(args); }
std::string ReadFile(const std::string& path) { return testing::ReadTextFile(path); }

const std::string kSmall = MOESIM_SOURCE_DIR "/scenarios/sweeps/deepseek-v3-h200-small.json";

TEST_CASE("moesim sweep writes its table as text, CSV and JSON", "[sweep][cli]") {
  const std::string csv = "/tmp/moesim-sweep-cli-test.csv",
                    json = "/tmp/moesim-sweep-cli-test.json";
  const CommandResult r = Run("sweep " + kSmall + " --jobs 2 --csv " + csv + " --json " + json);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("12 plans:") != std::string::npos);
  CHECK(r.output.find("best plan by output_tok_per_s_per_gpu") != std::string::npos);
  CHECK(r.output.find("interactive") != std::string::npos);
  CHECK(r.output.find('\r') == std::string::npos);  // not a terminal: no progress bar
  const std::string table = ReadFile(csv);
  std::istringstream lines(table);
  std::string header;
  std::getline(lines, header);
  CHECK(header.rfind("index,deployment.attention,deployment.tensor_parallel,"
                     "deployment.expert_parallel,deployment.instances,workload.concurrency,state,"
                     "gpus,output_tok_per_s_per_gpu",
                     0) == 0);
  CHECK(header.find("meets_interactive,meets_batch,on_frontier") != std::string::npos);
  int rows = 0;
  for (std::string line; std::getline(lines, line);) ++rows;
  CHECK(rows == 12);
  const auto doc = nlohmann::json::parse(ReadFile(json));
  CHECK(doc["plans"].size() == 12);
  CHECK(doc["counts"]["simulated"].get<int>() + doc["counts"]["screened_out"].get<int>() == 12);
  // --csv - writes the table alone to standard output.
  const CommandResult to_stdout = Run("sweep " + kSmall + " --screen-only --csv -");
  REQUIRE(to_stdout.exit_code == 0);
  CHECK(to_stdout.output.rfind("index,", 0) == 0);
  CHECK(to_stdout.output.find("screened") != std::string::npos);
}

TEST_CASE("moesim sweep runs an RLVR sweep and refuses --screen-only for it",
          "[sweep][cli][rlvr]") {
  const nlohmann::json doc = testing::SmallRlvrSplitSweep();
  const std::string file = "/tmp/moesim-sweep-cli-rlvr.json",
                    csv = "/tmp/moesim-sweep-cli-rlvr.csv";
  std::ofstream(file) << doc.dump(2);
  const CommandResult r = Run("sweep " + file + " --jobs 2 --csv " + csv);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("8 RLVR plans: 6 simulated, 2 skipped, 0 failed") != std::string::npos);
  CHECK(r.output.find("best plan by rlvr_step_time_s") != std::string::npos);
  std::istringstream lines(ReadFile(csv));
  std::string header;
  std::getline(lines, header);
  CHECK(header.rfind("index,rlvr.schedule,deployment.instances,rlvr.trainer.gpus,state,gpus,"
                     "step_time_s,",
                     0) == 0);
  const CommandResult screen = Run("sweep " + file + " --screen-only");
  CHECK(screen.exit_code == 2);
  CHECK(screen.output.find("--screen-only: an RLVR sweep has no analytic screen") !=
        std::string::npos);
}

TEST_CASE("sweep files and run files are not confused", "[sweep][cli]") {
  const CommandResult run = Run("run " + kSmall);
  CHECK(run.exit_code == 2);
  CHECK(run.output.find("$.sweep: a scenario with a sweep section is a plan search") !=
        std::string::npos);
  const CommandResult sweep = Run("sweep " MOESIM_SOURCE_DIR "/scenarios/default.json");
  CHECK(sweep.exit_code == 2);
  CHECK(sweep.output.find("needs a \"sweep\" section") != std::string::npos);
  const CommandResult missing = Run("sweep /nonexistent/sweep.json");
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("/nonexistent/sweep.json") != std::string::npos);
}

TEST_CASE("moesim compare prints reports side by side with ratios and the limit",
          "[compare][cli]") {
  const std::string spec =
      MOESIM_SOURCE_DIR "/scenarios/speculative/deepseek-v3-h200-tp8-c1-mtp2.json";
  const CommandResult r =
      Run("compare " + spec + " --without-speculation --json /tmp/moesim-cmp.json");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("B: deepseek-v3-h200-tp8-c1-mtp2 (no speculation)") != std::string::npos);
  CHECK(r.output.find("mean acceptance length") != std::string::npos);
  CHECK(r.output.find("(unchanged)") != std::string::npos);
  const auto doc = nlohmann::json::parse(ReadFile("/tmp/moesim-cmp.json"));
  bool found = false;
  for (const auto& m : doc["metrics"]) {
    if (m["metric"] != "throughput.per_user_output_tok_per_s") continue;
    found = true;
    CHECK(m["ratios"][0] == 1.0);
    // Without speculation a batch-1 user gets fewer tokens per second.
    CHECK(m["ratios"][1].get<double>() < 0.8);
  }
  CHECK(found);
  CHECK(Run("compare " + spec).exit_code == 2);  // one scenario: nothing to compare
  CHECK(
      Run("compare " MOESIM_SOURCE_DIR "/scenarios/default.json --without-speculation").exit_code ==
      2);
}

TEST_CASE("moesim compare sets RLVR schedules side by side: step, split, cost, limit",
          "[compare][cli][rlvr]") {
  // The shipped synchronous and one-step off-policy DeepSeek-V3 runs, made smaller (64 prompts a
  // step, two steps) so that the test stays short.
  std::vector<std::string> files;
  for (const char* name :
       {"deepseek-v3-h200-synchronous", "deepseek-v3-h200-one-step-off-policy"}) {
    std::ifstream in(std::string(MOESIM_SOURCE_DIR "/scenarios/rlvr/") + name + ".json");
    nlohmann::json doc = nlohmann::json::parse(in);
    doc["rlvr"]["prompts_per_step"] = 64;
    doc["rlvr"]["steps"] = 2;
    files.push_back(std::string("/tmp/moesim-cmp-rlvr-") + name + ".json");
    std::ofstream(files.back()) << doc.dump();
  }
  const CommandResult r =
      Run("compare " + files[0] + " " + files[1] + " --jobs 2 --json /tmp/moesim-cmp-rlvr.json");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* row : {"RLVR step (s)", "  rollout (s)", "  training (s)", "$ per step",
                          "steps per day", "rollout $ per M tokens"}) {
    CHECK(r.output.find(row) != std::string::npos);
  }
  CHECK(r.output.find("TPOT p50") == std::string::npos);  // no serving rows: none has a value
  CHECK(r.output.find("rollout: the longest samples") != std::string::npos);  // the limit
  const auto doc = nlohmann::json::parse(ReadFile("/tmp/moesim-cmp-rlvr.json"));
  bool found = false;
  for (const auto& m : doc["metrics"]) {
    if (m["metric"] != "rlvr.step_time_s") continue;
    found = true;
    // Rollout overlapping the previous step's training: a shorter step.
    CHECK(m["ratios"][1].get<double>() < 1.0);
  }
  CHECK(found);
}

}  // namespace
}  // namespace moesim
