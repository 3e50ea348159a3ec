// The "rlvr" section (models/rlvr_spec.h) and the trainer's cost model
// (models/rlvr_trainer_cost.h).
#include "models/rlvr_spec.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/preset_fixtures.h"
#include "models/rlvr_trainer_cost.h"

namespace moesim {
namespace {

nlohmann::json Minimal() {
  return nlohmann::json::parse(R"({
    "prompts_per_step": 4, "samples_per_prompt": 2,
    "prompt_tokens": {"kind": "fixed", "tokens": 100},
    "output_tokens": {"kind": "histogram", "bins": [[50, 1], [150, 3]]},
    "trainer": {"gpus": 8, "mfu": 0.4, "mfu_source": "test"}})");
}

std::string Error(const nlohmann::json& j) {
  auto s = ParseRlvrSpec(j, {"r.json", "$.rlvr"});
  REQUIRE_FALSE(s.ok());
  return std::string(s.status().message());
}

TEST_CASE("rlvr: a section parses with its defaults and prints back", "[rlvr]") {
  auto s = ParseRlvrSpec(Minimal(), {"r.json", "$.rlvr"});
  INFO(s.status().message());
  REQUIRE(s.ok());
  CHECK(s->samples_per_step() == 8);
  CHECK(s->steps == 1);
  CHECK(s->schedule == RlvrSchedule::kSynchronous);
  CHECK_FALSE(s->partial_rollout_tokens.has_value());
  CHECK(s->sync_bytes_per_param == 2);  // bf16 by default
  CHECK(s->delta_fraction == 1);
  CHECK(s->output_tokens.Mean() == Approx((50 + 3 * 150) / 4.0));
  CHECK(s->output_tokens.Max() == 150);
  const nlohmann::json back = RlvrSpecToJson(*s);
  CHECK(back["schedule"] == "synchronous");
  CHECK(back["output_tokens"]["kind"] == "histogram");
  nlohmann::json j = Minimal();
  j["weight_sync"] = {{"dtype", "fp8"}, {"delta_fraction", 0.25}};
  j["schedule"] = "one_step_off_policy";
  j["partial_rollout_tokens"] = 64;
  s = ParseRlvrSpec(j, {"r.json", "$.rlvr"});
  REQUIRE(s.ok());
  CHECK(s->sync_bytes_per_param == 1);
  CHECK(s->delta_fraction == 0.25);
  CHECK(*s->partial_rollout_tokens == 64);
}

TEST_CASE("rlvr: bad sections name the key", "[rlvr][bad-input]") {
  nlohmann::json j = Minimal();
  j["samples_per_prompt"] = 0;
  CHECK(Error(j).find("r.json: $.rlvr.samples_per_prompt: got 0") != std::string::npos);
  j = Minimal();
  j["prompts_per_step"] = 1000000;
  j["samples_per_prompt"] = 1000;
  CHECK(Error(j).find("above 4,000,000 samples") != std::string::npos);
  j = Minimal();
  j["schedule"] = "colocated";
  CHECK(Error(j).find("$.rlvr.trainer.gpus: a colocated trainer") != std::string::npos);
  j = Minimal();
  j["trainer"].erase("gpus");
  CHECK(Error(j).find("$.rlvr.trainer.gpus") != std::string::npos);
  j = Minimal();
  j["trainer"]["mfu"] = 0;
  CHECK(Error(j).find("$.rlvr.trainer.mfu: got 0") != std::string::npos);
  j = Minimal();
  j["weight_sync"] = {{"delta_fraction", 1.5}};
  CHECK(Error(j).find("$.rlvr.weight_sync.delta_fraction") != std::string::npos);
  j = Minimal();
  j["output_tokens"] = {{"kind", "histogram"}, {"bins", nlohmann::json::array()}};
  CHECK(Error(j).find("at least one bin with a weight > 0") != std::string::npos);
  j = Minimal();
  j["critic"] = true;
  CHECK(Error(j).find("$.rlvr.critic") != std::string::npos);
}

TEST_CASE("rlvr: the trainer's FLOPs, optimizer step and state", "[rlvr]") {
  const ModelSpec v3 = testing::ModelPreset("DeepSeek-V3");
  const GpuSpec h200 = testing::GpuPreset("H200");
  // Linear part: 6 x active parameters per token (2 forward, 4 backward).
  const double one = TrainSampleFlops(v3, 1, 0, false);
  CHECK(one == Approx(6 * v3.ActiveParams()).epsilon(1e-3));  // one token attends to itself only
  // Attention grows with the square of the length: 10x the tokens, more than 10x the FLOPs.
  const double a = TrainSampleFlops(v3, 1000, 1000, false);
  const double b = TrainSampleFlops(v3, 10000, 10000, false);
  CHECK(b > 10.5 * a);
  // The reference model's forward adds a third.
  CHECK(TrainSampleFlops(v3, 1000, 1000, true) == Approx(a * 4 / 3));
  // Adam: 28 bytes per parameter through HBM, shared by the GPUs.
  CHECK(OptimizerStepSeconds(v3, h200, 64) ==
        Approx(v3.TotalParams() * 28 / 64 / h200.HbmBytesPerSecond()));
  CHECK(TrainerStateBytesPerGpu(v3, 128) == Approx(v3.TotalParams() * 16 / 128));
}

}  // namespace
}  // namespace moesim
