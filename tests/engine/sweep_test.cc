// Sweeps (engine/sweep.h): invalid plans skipped with their reason counted, the GPU budget,
// screening, a failing plan that does not take the sweep down, SLOs and the best plan per SLO,
// and a table that is the same bytes run after run; RLVR sweeps (engine/sweep_rlvr.h).
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/preset_fixtures.h"
#include "../support/rlvr_sweep_fixture.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "engine/sweep.h"
#include "tools/sweep_writers.h"

namespace moesim {
namespace {

nlohmann::json ReadSweep(const std::string& name) {
  std::ifstream in(MOESIM_SOURCE_DIR "/scenarios/sweeps/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

nlohmann::json SmallSweep() { return ReadSweep("deepseek-v3-h200-small.json"); }

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

TEST_CASE("an RLVR sweep simulates every plan that fits and ranks them by step time",
          "[sweep][rlvr]") {
  const PresetLibrary presets = testing::LoadPresets();
  nlohmann::json doc = testing::SmallRlvrSplitSweep();
  doc["sweep"]["slos"] = {{{"name", "fast"}, {"step_time_s", 26}},
                          {{"name", "cheap"}, {"usd_per_step", 6}},
                          {{"name", "impossible"}, {"step_time_s", 1}}};
  auto sweep = PrepareSweep(doc, "rlvr.json", presets);
  INFO(sweep.status().message());
  REQUIRE(sweep.ok());
  REQUIRE(sweep->plans.size() == 8);  // 2 schedules x 4 splits
  // A 64-GPU trainer cannot hold DeepSeek-V3's training state: skipped before any simulation,
  // with the reason; every other plan is simulated (no screen).
  REQUIRE(sweep->skip_reasons.size() == 1);
  CHECK(sweep->skip_reasons.begin()->first.find("$.rlvr.trainer.gpus: got 64") == 0);
  CHECK(sweep->skip_reasons.begin()->second == 2);
  CHECK(sweep->Selected().size() == 6);
  for (const SweepPlan& p : sweep->plans) CHECK_FALSE(p.screen.has_value());
  FinishSweep(*sweep, SimulateAll(*sweep));
  const GpuSpec h200 = testing::GpuPreset("H200");
  std::optional<size_t> fastest;
  for (const SweepPlan& p : sweep->plans) {
    if (p.state != SweepPlanState::kSimulated) continue;
    REQUIRE(p.metrics->rlvr.has_value());
    const RlvrSweepMetrics& m = *p.metrics->rlvr;
    // GPUs: the rollout's instances of 8 plus the trainer's.
    CHECK(p.metrics->gpus == 8 * p.values[1].get<int>() + p.values[2].get<int>());
    CHECK(m.step_time_s > 0);
    // At the H200 preset's price per GPU-hour.
    CHECK(m.usd_per_step == Approx(m.gpu_hours_per_step * h200.usd_per_hour));
    CHECK(m.steps_per_day == Approx(86400 / m.step_time_s));
    CHECK(p.metrics->limit.find("rollout") == 0);
    if (!fastest || m.step_time_s < sweep->plans[*fastest].metrics->rlvr->step_time_s) {
      fastest = p.index;
    }
  }
  // The best plan: the shortest step; it is one-step off-policy with 16 instances.
  REQUIRE(sweep->best.size() == 4);
  REQUIRE(sweep->best[0].plan.has_value());
  CHECK(*sweep->best[0].plan == *fastest);
  CHECK(sweep->plans[*fastest].values[0] == "one_step_off_policy");
  // Each SLO's best meets it and has the shortest step among those that do.
  for (size_t s = 0; s < 2; ++s) {
    REQUIRE(sweep->best[s + 1].plan.has_value());
    const SweepPlan& b = sweep->plans[*sweep->best[s + 1].plan];
    CHECK(b.meets_slo[s]);
    for (const SweepPlan& p : sweep->plans) {
      if (p.state == SweepPlanState::kSimulated && p.meets_slo[s]) {
        CHECK(p.metrics->rlvr->step_time_s >= b.metrics->rlvr->step_time_s);
      }
    }
  }
  // "cheap" ($6 per step) is met only by a plan on fewer GPUs (192), which is slower.
  CHECK(sweep->plans[*sweep->best[2].plan].metrics->gpus == 192);
  CHECK_FALSE(sweep->best[3].plan.has_value());
  CHECK(sweep->best[3].reason.find("no simulated plan meets it; the closest, #" +
                                   std::to_string(*fastest)) == 0);
  // The frontier: no simulated plan is both faster and cheaper than a frontier plan; the fastest
  // and the cheapest are on it.
  for (size_t f : sweep->frontier) {
    const RlvrSweepMetrics& a = *sweep->plans[f].metrics->rlvr;
    for (const SweepPlan& p : sweep->plans) {
      if (p.state != SweepPlanState::kSimulated) continue;
      const RlvrSweepMetrics& b = *p.metrics->rlvr;
      CHECK_FALSE((b.step_time_s < a.step_time_s && b.usd_per_step <= a.usd_per_step));
    }
  }
  CHECK(sweep->frontier.size() >= 2);
  // A plan's metrics are those of its own run (one SimGrid engine per process: in a child).
  const SweepPlan& best = sweep->plans[*fastest];
  const auto runs = RunInSubprocesses({[&best]() -> absl::StatusOr<std::string> {
                                        auto r = RunSimulation(*best.scenario);
                                        if (!r.ok()) return r.status();
                                        return r->dump();
                                      }},
                                      1);
  REQUIRE(runs[0].ok());
  const nlohmann::json report = nlohmann::json::parse(*runs[0]);
  CHECK(report["rlvr"]["step_time_s"].get<double>() == best.metrics->rlvr->step_time_s);
  CHECK(report["rlvr"]["usd_per_step"].get<double>() == best.metrics->rlvr->usd_per_step);
  // The table: RLVR columns in the text and the CSV; the same bytes run after run.
  const nlohmann::json table = SweepToJson(*sweep);
  CHECK(table["kind"] == "rlvr");
  CHECK(table["objective"] == "rlvr_step_time_s");
  const std::string text = SweepJsonToText(table);
  CHECK(text.find("8 RLVR plans: 6 simulated, 2 skipped, 0 failed") == 0);
  CHECK(text.find("$/step") != std::string::npos);
  const std::string csv = SweepJsonToCsv(table);
  CHECK(csv.find("state,gpus,step_time_s,rollout_s") != std::string::npos);
  CHECK(csv.find("meets_fast,meets_cheap,meets_impossible,on_frontier") != std::string::npos);
  auto again = PrepareSweep(doc, "rlvr.json", presets);
  REQUIRE(again.ok());
  FinishSweep(*again, SimulateAll(*again));
  CHECK(SweepToJson(*again).dump() == table.dump());
}

TEST_CASE("an RLVR sweep's GPU budget counts the trainer's GPUs", "[sweep][rlvr]") {
  const PresetLibrary presets = testing::LoadPresets();
  nlohmann::json doc = testing::SmallRlvrSplitSweep();
  doc["sweep"]["max_gpus"] = 200;  // 192-GPU plans fit (64 rollout + 128 trainer), 256 do not
  auto sweep = PrepareSweep(doc, "rlvr.json", presets);
  REQUIRE(sweep.ok());
  for (size_t i : sweep->Selected()) CHECK(sweep->plans[i].values[2] == 128);
  CHECK(sweep->Selected().size() == 2);
  // An axis that drops the trainer of a plan: that plan is an error, the others go on.
  doc["sweep"]["axes"][1]["values"].push_back({8, -4});
  auto bad = PrepareSweep(doc, "rlvr.json", presets);
  REQUIRE(bad.ok());
  bool named = false;
  for (const auto& [reason, n] : bad->skip_reasons) {
    named |= reason.find("$.rlvr.trainer.gpus") == 0 && reason.find("-4") != std::string::npos;
  }
  CHECK(named);
}

}  // namespace
}  // namespace moesim
