// RLVR runs (engine/rlvr_controller.h, engine/rlvr_report.h): every sample generated to its
// length or carried, GPU time that adds up, weight-sync bytes equal to the weights times the
// receivers, the schedules' order, partial rollouts, determinism, and the duration cap.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/preset_fixtures.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

// Two TP8 DeepSeek-V3 rollout instances and a 96-GPU trainer on four racks of H200s.
nlohmann::json SmallRlvr() {
  return nlohmann::json::parse(R"({
    "name": "rlvr-small",
    "hardware": {"gpu": "H200", "gpus_per_server": 8, "servers_per_rack": 4, "racks": 4},
    "model": {"preset": "DeepSeek-V3", "kv_dtype": "fp8"},
    "runtime": {"preset": "sglang"},
    "deployment": {"tensor_parallel": 8, "expert_parallel": 8, "instances": 2},
    "rlvr": {
      "prompts_per_step": 16, "samples_per_prompt": 8,
      "prompt_tokens": {"kind": "uniform", "min_tokens": 200, "max_tokens": 800},
      "output_tokens": {"kind": "lognormal", "median_tokens": 800, "sigma": 0.8,
                        "max_tokens": 3000},
      "steps": 3, "schedule": "synchronous",
      "trainer": {"gpus": 96, "mfu": 0.3, "mfu_source": "test"}},
    "simulation": {"duration_s": 3600, "seed": 1}})");
}

absl::StatusOr<nlohmann::json> Run(const nlohmann::json& doc) {
  auto s = ParseScenario(doc, "rlvr.json", testing::LoadPresets());
  if (!s.ok()) return s.status();
  return testing::SimulateInChild(*s);
}

nlohmann::json MustRun(const nlohmann::json& doc) {
  auto r = Run(doc);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("an RLVR run generates every sample, accounts GPU time and syncs the weights", "[rlvr]") {
  const nlohmann::json r = MustRun(SmallRlvr());
  const auto& x = r["rlvr"];
  REQUIRE(x["steps"].size() == 3);
  double previous_end = 0;
  for (const auto& st : x["steps"]) {
    CHECK(st["samples_run"] == 128);
    CHECK(st["samples_finished"] == 128);
    CHECK(st["samples_carried"] == 0);
    // Synchronous: the rollout starts once the previous step's weights have arrived.
    CHECK(st["rollout_start_s"].get<double>() >= previous_end - 1e-9);
    previous_end = st["rollout_start_s"].get<double>() + st["step_s"].get<double>();
    CHECK(st["slowest_10pct_s"].get<double>() > 0);
    CHECK(st["train_s"].get<double>() > 0);
    // 2 instances x the whole model's parameters x 2 bytes (bf16).
    CHECK(st["sync_bytes"].get<double>() ==
          Approx(2 * testing::ModelPreset("DeepSeek-V3").TotalParams() * 2).epsilon(1e-9));
  }
  const auto& g = x["gpu_seconds"];
  CHECK(g["rollout_busy"].get<double>() + g["rollout_idle"].get<double>() +
            g["trainer_busy"].get<double>() + g["trainer_idle"].get<double>() ==
        Approx(g["wall_times_gpus"].get<double>()).epsilon(1e-9));
  CHECK(r["plan"]["gpus"] == 16 + 96);
  CHECK(x["steps_per_quarter"].get<double>() ==
        Approx(90 * 86400 / x["step_time_s"].get<double>()));
  CHECK(x["usd_per_step"].get<double>() > 0);
}

TEST_CASE("one-step off-policy overlaps rollout with training; colocated pays the switch",
          "[rlvr]") {
  const nlohmann::json sync = MustRun(SmallRlvr());
  nlohmann::json doc = SmallRlvr();
  doc["rlvr"]["schedule"] = "one_step_off_policy";
  const nlohmann::json off = MustRun(doc);
  // The same samples (same seed), so the rollouts match; the step shortens by the overlap.
  CHECK(off["rlvr"]["steps"][0]["response_tokens"] == sync["rlvr"]["steps"][0]["response_tokens"]);
  CHECK(off["rlvr"]["step_time_s"].get<double>() < sync["rlvr"]["step_time_s"].get<double>());
  // Rollout k starts when rollout k - 1 ends (its weights are one step older).
  CHECK(off["rlvr"]["steps"][1]["rollout_start_s"].get<double>() ==
        Approx(off["rlvr"]["steps"][0]["rollout_s"].get<double>()));

  doc = SmallRlvr();
  doc["rlvr"]["schedule"] = "colocated";
  doc["rlvr"]["trainer"].erase("gpus");
  doc["deployment"]["instances"] = 12;  // 96 GPUs hold the training state
  const nlohmann::json colo = MustRun(doc);
  CHECK(colo["plan"]["gpus"] == 96);
  CHECK(colo["plan"]["trainer_gpus"] == 96);
  CHECK(colo["rlvr"]["split_s"]["switch"].get<double>() > 0);
  CHECK(colo["rlvr"]["weight_sync"]["bytes_per_step"] == 0.0);
  CHECK(colo["rlvr"]["gpu_seconds"]["rollout_idle"].get<double>() < 1e-6);
}

TEST_CASE("the rollout runs on any serving plan: disaggregated, DP attention", "[rlvr]") {
  nlohmann::json doc = SmallRlvr();
  doc["deployment"] = nlohmann::json::parse(R"({"pools": [
      {"name": "prefill", "role": "prefill", "tensor_parallel": 8, "expert_parallel": 8},
      {"name": "decode", "role": "decode", "tensor_parallel": 8, "expert_parallel": 8}],
      "kv_transfer": {"connector": "mooncake"}})");
  doc["simulation"]["collectives"] = "analytic";
  const nlohmann::json disagg = MustRun(doc);
  for (const auto& st : disagg["rlvr"]["steps"]) CHECK(st["samples_finished"] == 128);
  // Both pools receive the weights: 2 instances' worth.
  CHECK(disagg["rlvr"]["weight_sync"]["bytes_per_step"].get<double>() ==
        Approx(2 * testing::ModelPreset("DeepSeek-V3").TotalParams() * 2).epsilon(1e-9));
  doc = SmallRlvr();
  doc["deployment"] = {{"attention", "data_parallel"},
                       {"tensor_parallel", 1},
                       {"expert_parallel", 8},
                       {"instances", 2}};
  doc["simulation"]["collectives"] = "analytic";
  const nlohmann::json dpa = MustRun(doc);
  for (const auto& st : dpa["rlvr"]["steps"]) CHECK(st["samples_finished"] == 128);
}

TEST_CASE("partial rollouts carry long samples into the next step, none lost", "[rlvr]") {
  nlohmann::json doc = SmallRlvr();
  doc["rlvr"]["partial_rollout_tokens"] = 1000;
  const nlohmann::json r = MustRun(doc);
  const auto& steps = r["rlvr"]["steps"];
  int64_t carried_in = 0, finished = 0;
  for (const auto& st : steps) {
    CHECK(st["samples_run"].get<int64_t>() == 128 + carried_in);
    CHECK(st["samples_finished"].get<int64_t>() + st["samples_carried"].get<int64_t>() ==
          st["samples_run"].get<int64_t>());
    carried_in = st["samples_carried"].get<int64_t>();
    finished += st["samples_finished"].get<int64_t>();
  }
  CHECK(carried_in > 0);  // lognormal responses past 1,000 tokens
  CHECK(finished + r["rlvr"]["samples_unfinished_at_end"].get<int64_t>() == 3 * 128);
}

TEST_CASE("RLVR runs are byte-identical for a seed, and a short cap is an error", "[rlvr]") {
  CHECK(MustRun(SmallRlvr()).dump() == MustRun(SmallRlvr()).dump());
  nlohmann::json doc = SmallRlvr();
  doc["simulation"]["duration_s"] = 30;
  auto r = Run(doc);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("$.simulation.duration_s") != std::string::npos);
  CHECK(std::string(r.status().message()).find("RLVR steps") != std::string::npos);
}

TEST_CASE("bad RLVR sections name the key", "[rlvr]") {
  const PresetLibrary presets = testing::LoadPresets();
  auto expect = [&](nlohmann::json doc, const std::string& fragment) {
    auto s = ParseScenario(doc, "rlvr.json", presets);
    absl::Status status = s.status();
    if (s.ok()) status = Run(doc).status();  // errors found when the run is set up
    REQUIRE_FALSE(status.ok());
    INFO(status.message());
    CHECK(std::string(status.message()).find(fragment) != std::string::npos);
  };
  nlohmann::json doc = SmallRlvr();
  doc["workload"] = {{"arrival", "closed_loop"}};
  expect(doc, "give no workload");
  doc = SmallRlvr();
  doc["rlvr"]["trainer"]["mfu"] = 1.5;
  expect(doc, "$.rlvr.trainer.mfu");
  doc = SmallRlvr();
  doc["rlvr"]["trainer"].erase("mfu_source");
  expect(doc, "$.rlvr.trainer.mfu_source");
  doc = SmallRlvr();
  doc["rlvr"]["schedule"] = "colocated";
  expect(doc, "a colocated trainer runs on the rollout's GPUs");
  doc = SmallRlvr();
  doc["rlvr"]["trainer"]["gpus"] = 16;
  expect(doc, "fully sharded training state");
  doc = SmallRlvr();
  doc["rlvr"]["trainer"]["gpus"] = 1000;
  expect(doc, "outside the rollout's pools");
  doc = SmallRlvr();
  doc["rlvr"]["output_tokens"] = {{"kind", "histogram"}, {"bins", {{100, 1}, {0, 1}}}};
  expect(doc, "$.rlvr.output_tokens.bins[1]");
  doc = SmallRlvr();
  doc["rlvr"]["weight_sync"] = {{"dtype", "fp4"}};
  expect(doc, "$.rlvr.weight_sync.dtype");
  doc = SmallRlvr();
  doc["rlvr"]["steps"] = 0;
  expect(doc, "$.rlvr.steps");
}

}  // namespace
}  // namespace moesim
