// Sweeps (engine/sweep.h): invalid plans skipped with their reason counted, the GPU budget,
// screening, a failing plan that does not take the sweep down, SLOs and the best plan per SLO,
// and a table that is the same bytes run after run.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/preset_fixtures.h"
#include "engine/subprocess.h"
#include "engine/sweep.h"

namespace moesim {
namespace {

nlohmann::json SmallSweep() {
  std::ifstream in(MOESIM_SOURCE_DIR "/scenarios/sweeps/deepseek-v3-h200-small.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// Phase 2 in child processes, as `moesim sweep` runs it.
std::vector<absl::StatusOr<std::string>> SimulateAll(const Sweep& sweep) {
  std::vector<SubprocessJob> jobs;
  for (size_t i : sweep.Selected()) jobs.push_back([&sweep, i] { return SimulatePlan(sweep, i); });
  return RunInSubprocesses(jobs, 2);
}

TEST_CASE("invalid plans and plans over the budget are skipped with their reason", "[sweep]") {
  const PresetLibrary presets = testing::LoadPresets();
  nlohmann::json doc = SmallSweep();
  // Tensor parallelism 3 does not divide DeepSeek-V3's heads; 32 GPUs exceed the cluster.
  doc["sweep"]["axes"][0]["values"].push_back({"tensor_parallel", 3, 1, 1});
  doc["sweep"]["axes"][0]["values"].push_back({"tensor_parallel", 8, 8, 4});
  doc["sweep"]["axes"][0]["values"].push_back({"tensor_parallel", 8, 8, 1});  // fits
  doc["sweep"]["max_gpus"] = 8;
  auto sweep = PrepareSweep(doc, "small.json", presets);
  INFO(sweep.status().message());
  REQUIRE(sweep.ok());
  REQUIRE(sweep->plans.size() == 21);
  int over_budget = 0, invalid = 0;
  for (const auto& [reason, count] : sweep->skip_reasons) {
    INFO(reason);
    CHECK(reason.find("small.json") == std::string::npos);  // file prefix dropped
    if (reason.find("GPU budget") != std::string::npos)
      over_budget += count;
    else
      invalid += count;
  }
  // 2 x TP8 (16 GPUs), TP16 and DP-attention EP16 on 16 GPUs: over an 8-GPU budget.
  CHECK(over_budget == 4 * 3);
  CHECK(invalid == 2 * 3);  // TP3, and 4 instances of 8 on a 16-GPU cluster
  int screened = 0;
  for (const SweepPlan& p : sweep->plans) screened += p.screen.has_value();
  CHECK(screened == 3);  // one TP8 instance at three client counts
  // Every plan invalid: an error listing the reasons, not an empty table.
  doc["sweep"]["max_gpus"] = 1;
  auto none = PrepareSweep(doc, "small.json", presets);
  REQUIRE_FALSE(none.ok());
  CHECK(std::string(none.status().message()).find("no valid plan among 21") != std::string::npos);
}

TEST_CASE("a sweep screens, simulates the frontier and picks the best plan per SLO", "[sweep]") {
  const PresetLibrary presets = testing::LoadPresets();
  auto sweep = PrepareSweep(SmallSweep(), "small.json", presets);
  REQUIRE(sweep.ok());
  const std::vector<size_t> selected = sweep->Selected();
  REQUIRE(!selected.empty());
  REQUIRE(selected.size() < sweep->plans.size());
  for (const SweepPlan& p : sweep->plans) {
    if (!p.selected) {
      CHECK(p.state == SweepPlanState::kScreenedOut);
      CHECK(p.screen_shortfall > sweep->spec.keep_within_pct / 100);
      CHECK(p.reason.find("below the screened frontier") != std::string::npos);
    }
  }
  auto results = SimulateAll(*sweep);
  // One plan's simulation fails: it is marked failed, the rest of the sweep goes on.
  results[0] = absl::InternalError("simulation process ended abnormally (signal 9)");
  FinishSweep(*sweep, results);
  CHECK(sweep->plans[selected[0]].state == SweepPlanState::kFailed);
  CHECK(sweep->plans[selected[0]].reason.find("signal 9") != std::string::npos);
  int simulated = 0;
  for (size_t k = 1; k < selected.size(); ++k) {
    const SweepPlan& p = sweep->plans[selected[k]];
    REQUIRE(p.state == SweepPlanState::kSimulated);
    ++simulated;
    CHECK(p.metrics->output_tok_per_s_per_gpu > 0);
    REQUIRE(p.meets_slo.size() == 2);
  }
  CHECK(simulated > 0);
  // The frontier: no simulated plan dominates a frontier plan.
  REQUIRE(!sweep->frontier.empty());
  for (size_t f : sweep->frontier) {
    const SweepMetrics& a = *sweep->plans[f].metrics;
    for (const SweepPlan& p : sweep->plans) {
      if (p.state != SweepPlanState::kSimulated) continue;
      const SweepMetrics& b = *p.metrics;
      CHECK_FALSE((b.output_tok_per_s_per_gpu > a.output_tok_per_s_per_gpu &&
                   b.tok_per_s_per_user >= a.tok_per_s_per_user));
    }
  }
  // Best per SLO: the plan with the most tok/s per GPU among those meeting it.
  REQUIRE(sweep->best.size() == 3);
  for (size_t s = 0; s < 2; ++s) {
    const SweepBest& best = sweep->best[s + 1];
    CHECK(best.slo == sweep->spec.slos[s].name);
    if (!best.plan) {
      CHECK(best.reason.find("no simulated plan meets it") != std::string::npos);
      continue;
    }
    const SweepPlan& b = sweep->plans[*best.plan];
    CHECK(b.meets_slo[s]);
    CHECK(best.reason.find("#" + std::to_string(b.index)) != std::string::npos);
    for (const SweepPlan& p : sweep->plans) {
      if (p.state == SweepPlanState::kSimulated && p.meets_slo[s]) {
        CHECK(p.metrics->output_tok_per_s_per_gpu <= b.metrics->output_tok_per_s_per_gpu);
      }
    }
  }
}

TEST_CASE("a sweep's table is the same bytes run after run", "[sweep]") {
  const PresetLibrary presets = testing::LoadPresets();
  std::string tables[2];
  for (std::string& table : tables) {
    auto sweep = PrepareSweep(SmallSweep(), "small.json", presets);
    REQUIRE(sweep.ok());
    FinishSweep(*sweep, SimulateAll(*sweep));
    table = SweepToJson(*sweep).dump();
  }
  CHECK(tables[0] == tables[1]);
}

TEST_CASE("simulation metrics survive the trip through a child process", "[sweep]") {
  SweepMetrics m;
  m.gpus = 16;
  m.output_tok_per_s = 1000;
  m.output_tok_per_s_per_gpu = 62.5;
  m.tok_per_s_per_user = 20;
  m.ttft_p90_s = 1.5;
  m.limit = "decode: hbm";
  m.finished_requests = 7;
  const SweepMetrics back =
      SweepMetricsFromJson(nlohmann::json::parse(SweepMetricsToJson(m).dump()));
  CHECK(back.gpus == 16);
  CHECK(back.output_tok_per_s_per_gpu == 62.5);
  CHECK(*back.ttft_p90_s == 1.5);
  CHECK_FALSE(back.tpot_p90_s.has_value());  // none finished: no percentile, not 0
  CHECK(back.limit == "decode: hbm");
}

}  // namespace
}  // namespace moesim
