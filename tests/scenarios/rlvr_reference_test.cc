// Seed 004's RLVR arithmetic (../shared/reference/seeds/004_*.txt) against the simulation of
// scenarios/rlvr/seed004-2t-fp8-h200-{mtp,no-spec}.json (a 2T FP8 MoE, 250B active, rolled out on
// 4 x 8 H200s, ~45K-token samples, $2 per H200-hour). The seed: ~10 tok/s per sequence without
// speculative decoding, ~40 with 4 accepted tokens per step; "0.3 hours per RLVR step, of which
// there are only 6.4K in 3 months", "4.3K steps of 0.5 hours in 3 months"; "$2-9 per 1M tokens".
// Tolerances: the seed's own ranges, widened by 25 % where it gives one number.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "../support/preset_fixtures.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"

namespace moesim {
namespace {

nlohmann::json RunShipped(const std::string& name) {
  auto s = LoadScenario(MOESIM_SOURCE_DIR "/scenarios/rlvr/" + name, testing::LoadPresets());
  INFO(s.status().message());
  REQUIRE(s.ok());
  auto r = testing::SimulateInChild(*s);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return *r;
}

// Mean decode rate of one sequence over the rollouts: response tokens per sample / rollout s.
double PerSequenceTokPerS(const nlohmann::json& r) {
  double tokens = 0, seconds = 0, samples = 0;
  for (const auto& st : r["rlvr"]["steps"]) {
    tokens += st["response_tokens"].get<double>();
    seconds += st["rollout_s"].get<double>();
    samples += st["samples_run"].get<double>();
  }
  return tokens / samples / (seconds / double(r["rlvr"]["steps"].size()));
}

TEST_CASE("seed 004: a 2T FP8 rollout on 32 H200s with and without speculation",
          "[rlvr][reference]") {
  const nlohmann::json plain = RunShipped("seed004-2t-fp8-h200-no-spec.json");
  const nlohmann::json mtp = RunShipped("seed004-2t-fp8-h200-mtp.json");
  // ~10 tok/s per sequence without speculation (25 ms per pass of HBM, 4 pipeline stages).
  CHECK(PerSequenceTokPerS(plain) == Approx(10).epsilon(0.35));
  // With 4 tokens accepted per step: 0.3-0.5 h per step, 4.3K-6.4K steps in 3 months.
  const double hours = mtp["rlvr"]["step_time_s"].get<double>() / 3600;
  CHECK(hours >= 0.3 * 0.9);
  CHECK(hours <= 0.5 * 1.25);
  const double quarter = mtp["rlvr"]["steps_per_quarter"].get<double>();
  CHECK(quarter >= 4300 * 0.8);
  CHECK(quarter <= 6400 * 1.1);
  // $2-9 per million rollout tokens at $2 per H200-hour.
  const double usd = mtp["rlvr"]["rollout_usd_per_million_tokens"].get<double>();
  CHECK(usd >= 2);
  CHECK(usd <= 9);
  // Speculation is what makes the step fit the seed's cadence.
  CHECK(plain["rlvr"]["step_time_s"].get<double>() > 2 * mtp["rlvr"]["step_time_s"].get<double>());
}

}  // namespace
}  // namespace moesim
