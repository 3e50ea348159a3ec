// Speculative decoding's acceptance model (models/speculative.h): probabilities from every form
// of acceptance input, the sampler against them, and bad input.
#include "models/speculative.h"

#include <cmath>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/preset_fixtures.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

absl::StatusOr<SpeculativeSpec> Parse(const nlohmann::json& j,
                                      const std::string& model = "DeepSeek-V3") {
  static const PresetLibrary lib = testing::LoadPresets();
  return ParseSpeculativeSpec(j, {"spec.json", "$.speculative"}, testing::ModelPreset(model), lib);
}

std::string Error(const nlohmann::json& j, const std::string& model = "DeepSeek-V3") {
  auto s = Parse(j, model);
  REQUIRE_FALSE(s.ok());
  return std::string(s.status().message());
}

TEST_CASE("speculative: acceptance lengths give per-position probabilities that reproduce them",
          "[speculative]") {
  // TensorRT-LLM DeepSeek-R1 MTP on B200 (measurements/README.md §2 P5).
  const double lengths[] = {1.92, 2.58, 2.82, 2.99, 3.01};
  for (int k = 1; k <= 5; ++k) {
    auto s = Parse({{"method", "mtp"},
                    {"draft_tokens", k},
                    {"acceptance", {{"curve", "deepseek-r1-trtllm-mtp-b200"}}}});
    REQUIRE(s.ok());
    REQUIRE(s->accept_probability.size() == size_t(k));
    CHECK(s->ExpectedAcceptanceLength() == Approx(lengths[k - 1]).epsilon(1e-12));
  }
  auto s =
      Parse({{"method", "mtp"}, {"draft_tokens", 2}, {"acceptance", {{"lengths", {1.9, 2.71}}}}});
  REQUIRE(s.ok());
  CHECK(s->accept_probability[0] == Approx(0.9));
  CHECK(s->accept_probability[1] == Approx(0.9));
  // A curve that falls at saturation (DeepSeek-V4-Pro at k = 7) gives p = 0 there.
  s = Parse(
      {{"method", "mtp"}, {"draft_tokens", 7}, {"acceptance", {{"curve", "deepseek-v4-pro-mtp"}}}});
  REQUIRE(s.ok());
  CHECK(s->accept_probability[6] == 0.0);
  CHECK(s->ExpectedAcceptanceLength() == Approx(2.55).epsilon(1e-12));
}

TEST_CASE("speculative: a mean acceptance length with a decay model", "[speculative]") {
  auto s = Parse({{"method", "mtp"},
                  {"draft_tokens", 3},
                  {"acceptance", {{"mean_length", 2.5}, {"decay", 0.8}}}});
  REQUIRE(s.ok());
  CHECK(s->ExpectedAcceptanceLength() == Approx(2.5).epsilon(1e-9));
  CHECK(s->accept_probability[1] == Approx(0.8 * s->accept_probability[0]));
  CHECK(s->accept_probability[2] == Approx(0.64 * s->accept_probability[0]));
  auto bad = Parse({{"method", "mtp"},
                    {"draft_tokens", 3},
                    {"acceptance", {{"mean_length", 3.9}, {"decay", 0.5}}}});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()),
             Contains("$.speculative.acceptance.mean_length: got 3.9, expected at most 2.625"));
}

TEST_CASE("speculative: sampled acceptance matches the configured distribution", "[speculative]") {
  const std::vector<double> p = {0.9, 0.7, 0.5};
  AcceptanceSampler sampler(p, 42);
  const int n = 200000;
  std::vector<int> counts(4, 0);
  for (int i = 0; i < n; ++i) ++counts[sampler.Sample()];
  // P(accepted = j) = Π_{i<=j} p_i · (1 - p_{j+1}).
  const double expected[] = {0.1, 0.9 * 0.3, 0.9 * 0.7 * 0.5, 0.9 * 0.7 * 0.5};
  for (int j = 0; j < 4; ++j) {
    const double sigma = std::sqrt(expected[j] * (1 - expected[j]) / n);
    INFO("accepted " << j << ": " << double(counts[j]) / n << " vs " << expected[j]);
    CHECK(std::fabs(double(counts[j]) / n - expected[j]) < 5 * sigma);
  }
  // Deterministic by seed.
  AcceptanceSampler a(p, 7), b(p, 7);
  for (int i = 0; i < 1000; ++i) REQUIRE(a.Sample() == b.Sample());
}

TEST_CASE("speculative: bad input names the path, the value and the expectation",
          "[speculative][bad-input]") {
  const nlohmann::json ok = {
      {"method", "mtp"}, {"draft_tokens", 2}, {"acceptance", {{"per_position", {0.8, 0.6}}}}};
  nlohmann::json j = ok;
  j["draft_tokens"] = 0;
  CHECK_THAT(Error(j), Contains("spec.json: $.speculative.draft_tokens: got 0"));
  j = ok;
  j["acceptance"]["per_position"] = {0.8, 1.2};
  CHECK_THAT(Error(j), Contains("$.speculative.acceptance.per_position[1]: got 1.2, expected a "
                                "probability in [0, 1]"));
  j = ok;
  j["acceptance"]["per_position"] = {0.8};
  CHECK_THAT(Error(j), Contains("expected at least draft_tokens = 2 probabilities"));
  j = ok;
  j["draft_tokens"] = 6;
  j["acceptance"] = {{"curve", "deepseek-r1-trtllm-mtp-b200"}};
  CHECK_THAT(Error(j), Contains("$.speculative.acceptance.curve.lengths"));
  CHECK_THAT(Error(j), Contains("at least draft_tokens = 6 acceptance lengths"));
  j = ok;
  j["acceptance"] = {{"lengths", {2.5, 2.6}}};
  CHECK_THAT(Error(j), Contains("$.speculative.acceptance.lengths[0]: got 2.5, expected an "
                                "acceptance length between 1 and 2"));
  j = ok;
  j["acceptance"] = {{"curve", "no-such-curve"}};
  CHECK_THAT(Error(j), Contains("$.speculative.acceptance.curve"));
  j = ok;
  j["acceptance"]["lengths"] = {1.5, 1.8};
  CHECK_THAT(Error(j), Contains("needs exactly one of"));
  j = ok;
  j["method"] = "draft_model";
  CHECK_THAT(Error(j), Contains("$.speculative.draft_model: missing required key"));
  j["draft_model"] = "Qwen3-1.7B";  // Qwen's 151,936-token vocabulary, not DeepSeek's
  CHECK_THAT(Error(j), Contains("$.speculative.draft_model.vocab: got 151936, expected the "
                                "target's vocabulary size (DeepSeek-V3: 129280)"));
  j["draft_model"] = "no-such-model";
  CHECK_THAT(Error(j), Contains("$.speculative.draft_model"));
  j["draft_model"] = "Qwen3-Next-80B-A3B";  // linear-attention layers
  CHECK_THAT(Error(j, "Qwen3-235B-A22B"),
             Contains("$.speculative.draft_model.attention_pattern: got \"Qwen3-Next-80B-A3B\", "
                      "expected a draft model with full or sliding-window attention"));
  j = ok;
  j["draft_model"] = "Qwen3-1.7B";  // only with method "draft_model"
  CHECK_THAT(Error(j), Contains("$.speculative.draft_model: unknown key"));
  j = ok;
  j["draft_gpus"] = 1;  // only with method "draft_model"
  CHECK_THAT(Error(j), Contains("$.speculative.draft_gpus: unknown key"));
  j = ok;
  j["method"] = "draft_model";
  j["draft_model"] = "Qwen3-1.7B";
  for (const nlohmann::json bad : {nlohmann::json(0), nlohmann::json(-2), nlohmann::json(1.5),
                                   nlohmann::json(65), nlohmann::json("one")}) {
    j["draft_gpus"] = bad;
    CHECK_THAT(Error(j, "Qwen3-235B-A22B"), Contains("$.speculative.draft_gpus: got "));
  }
  j = ok;
  j["method"] = "eagle";
  j["draft_intermediate_size"] = 0;
  CHECK_THAT(Error(j), Contains("$.speculative.draft_intermediate_size: got 0"));
  j.erase("draft_intermediate_size");
  // Qwen3-30B-A3B has no dense layer to take the head's width from.
  CHECK_THAT(Error(j, "Qwen3-30B-A3B"), Contains("\"draft_intermediate_size\" is needed"));
  CHECK_THAT(Error(ok, "Qwen3-235B-A22B"), Contains("has no MTP layers"));
  j = ok;
  j["temperature"] = 0.7;
  CHECK_THAT(Error(j), Contains("$.speculative.temperature: unknown key"));
}

TEST_CASE("speculative: the MTP draft is one MoE decoder layer of the target's shape",
          "[speculative]") {
  const ModelSpec v3 = testing::ModelPreset("DeepSeek-V3");
  const ModelSpec d = MtpDraftModel(v3);
  CHECK(d.layers == 1);
  CHECK(d.MoeLayerCount() == 1);
  CHECK(d.hidden == v3.hidden);
  CHECK(d.vocab == v3.vocab);
  CHECK(WithAppendedLayers(v3, 1).MoeLayerCount() == v3.MoeLayerCount() + 1);
}

TEST_CASE("speculative: an EAGLE-3 head is one dense layer at the target's hidden size",
          "[speculative]") {
  // Its width defaults to the target's dense layers' (DeepSeek-V3: 18,432).
  auto s = Parse({{"method", "eagle"},
                  {"draft_tokens", 3},
                  {"acceptance", {{"curve", "kimi-k2.5-nvfp4-eagle3"}}}});
  REQUIRE(s.ok());
  const ModelSpec v3 = testing::ModelPreset("DeepSeek-V3");
  CHECK(s->method == DraftMethod::kEagle);
  CHECK(s->draft_intermediate == v3.moe.dense_inter);
  CHECK(s->ExpectedAcceptanceLength() == Approx(2.88).epsilon(1e-12));
  const ModelSpec head = DraftModelFor(v3, *s);
  CHECK(head.layers == 1);
  CHECK(head.MoeLayerCount() == 0);
  CHECK(head.hidden == v3.hidden);
  // Far fewer weights than an MTP layer (an MoE layer with 256 experts).
  CHECK(head.WeightBytes() < MtpDraftModel(v3).WeightBytes());
  s = Parse({{"method", "eagle"},
             {"draft_tokens", 2},
             {"draft_intermediate_size", 8192},
             {"acceptance", {{"per_position", {0.8, 0.6}}}}},
            "Qwen3-30B-A3B");
  REQUIRE(s.ok());
  CHECK(DraftModelFor(testing::ModelPreset("Qwen3-30B-A3B"), *s).moe.dense_inter == 8192);
}

TEST_CASE("speculative: a separate draft model is a preset with the target's vocabulary",
          "[speculative]") {
  auto s = Parse({{"method", "draft_model"},
                  {"draft_model", "Qwen3-1.7B"},
                  {"draft_tokens", 4},
                  {"acceptance", {{"curve", "qwen3-32b-qwen3-1.7b-draft-instructcoder"}}}},
                 "Qwen3-235B-A22B");
  REQUIRE(s.ok());
  CHECK(s->method == DraftMethod::kDraftModel);
  CHECK(std::string(DraftMethodName(s->method)) == "draft_model");
  CHECK(s->ExpectedAcceptanceLength() == Approx(3.28).epsilon(1e-12));
  const ModelSpec target = testing::ModelPreset("Qwen3-235B-A22B");
  const ModelSpec draft = DraftModelFor(target, *s);
  // Qwen3-1.7B as published: 28 dense layers, 1.7B parameters (tied embeddings).
  CHECK(draft.name == "Qwen3-1.7B");
  CHECK(draft.IsDense());
  CHECK(draft.layers == 28);
  CHECK(draft.MoeLayerCount() == 0);
  CHECK(draft.TotalParams() / 1e9 == Approx(1.72).epsilon(0.01));
  CHECK(SpeculativeSpecToJson(*s)["draft_model"] == "Qwen3-1.7B");
  // Its plan: one stage, the target's TP and EP, no redundant expert slots of its own.
  ParallelPlan plan;
  plan.tp = 8;
  plan.pp = 2;
  plan.ep = 8;
  plan.redundant_experts = 32;
  const ParallelPlan dp = DraftParallelPlan(plan, *s);
  CHECK(dp.pp == 1);
  CHECK(dp.tp == 8);
  CHECK(dp.ep == 8);
  CHECK(dp.redundant_experts == 0);
  CHECK(s->draft_gpus == 0);  // the target's GPUs unless it has its own
  CHECK_FALSE(SpeculativeSpecToJson(*s).contains("draft_gpus"));
  // On GPUs of its own (a pool that has them): tensor parallel over them, whatever the
  // target's plan; a pool without them (a prefill pool) shards it like the target.
  auto own = Parse({{"method", "draft_model"},
                    {"draft_model", "Qwen3-1.7B"},
                    {"draft_gpus", 2},
                    {"draft_tokens", 4},
                    {"acceptance", {{"curve", "qwen3-32b-qwen3-1.7b-draft-instructcoder"}}}},
                   "Qwen3-235B-A22B");
  REQUIRE(own.ok());
  CHECK(own->draft_gpus == 2);
  CHECK(SpeculativeSpecToJson(*own)["draft_gpus"] == 2);
  CHECK(DraftParallelPlan(plan, *own).tp == 8);
  const ParallelPlan op = OwnDraftGpusPlan(own->draft_gpus);
  CHECK(op.tp == 2);
  CHECK(op.pp == 1);
  CHECK(op.ep == 1);
  CHECK(op.redundant_experts == 0);
  // An MoE draft (Qwen3-30B-A3B for Qwen3-235B-A22B) is allowed too.
  s = Parse({{"method", "draft_model"},
             {"draft_model", "Qwen3-30B-A3B"},
             {"draft_tokens", 2},
             {"acceptance", {{"per_position", {0.8, 0.6}}}}},
            "Qwen3-235B-A22B");
  REQUIRE(s.ok());
  CHECK(DraftModelFor(target, *s).MoeLayerCount() == 48);
}

}  // namespace
}  // namespace moesim
