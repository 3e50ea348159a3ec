// Unit tests of the sweep section parser (plan/sweep_spec.h) and of plan expansion
// (plan/sweep_expansion.h).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "plan/sweep_expansion.h"
#include "plan/sweep_spec.h"

namespace moesim {
namespace {

absl::StatusOr<SweepSpec> Parse(const std::string& text) {
  return ParseSweepSpec(nlohmann::json::parse(text), {"s.json", "$.sweep"});
}

void ExpectError(const std::string& text, const std::string& fragment) {
  auto s = Parse(text);
  REQUIRE_FALSE(s.ok());
  INFO(s.status().message());
  CHECK(std::string(s.status().message()).find(fragment) != std::string::npos);
  CHECK(std::string(s.status().message()).find("s.json") != std::string::npos);
}

TEST_CASE("sweep axes expand lists, ranges and coupled keys", "[sweep]") {
  auto s = Parse(R"({"axes": [
      {"path": "$.deployment.tensor_parallel", "values": [4, 8]},
      {"path": "$.workload.concurrency", "range": {"from": 16, "to": 256, "factor": 4}},
      {"path": "$.workload.rate_per_s", "range": {"from": 0.5, "to": 1.5, "step": 0.5}},
      {"paths": ["$.a", "$.b"], "values": [[1, "x"], [2, "y"]]}],
      "max_gpus": 64, "min_gpus": 8,
      "slos": [{"ttft_p90_s": 2}, {"name": "fast", "tpot_p90_ms": 20}],
      "objective": "usd_per_million_output_tokens",
      "screen": {"keep_within_pct": 10, "simulate": "all"}, "instances": "all"})");
  INFO(s.status().message());
  REQUIRE(s.ok());
  REQUIRE(s->axes.size() == 4);
  CHECK(s->axes[1].values.size() == 3);  // 16, 64, 256
  CHECK(s->axes[1].values[2][0] == 256);
  CHECK(s->axes[1].values[2][0].is_number_integer());
  CHECK(s->axes[2].values.size() == 3);  // 0.5, 1.0, 1.5
  CHECK(s->axes[2].values[2][0].get<double>() == Approx(1.5));
  CHECK(s->PlanCount() == 2 * 3 * 3 * 2);
  CHECK(*s->max_gpus == 64);
  CHECK(*s->min_gpus == 8);
  REQUIRE(s->slos.size() == 2);
  CHECK(s->slos[0].name == "slo1");
  CHECK(*s->slos[1].tpot_p90_ms == 20);
  CHECK(s->objective == SweepObjective::kUsdPerMillionOutputTokens);
  CHECK(s->keep_within_pct == 10);
  CHECK(s->simulate_all);
  CHECK_FALSE(s->representative_instances);
}

TEST_CASE("bad sweep sections are errors naming the key", "[sweep]") {
  ExpectError(R"({"axes": []})", "a non-empty array of axes");
  ExpectError(R"({"axes": [{"path": "deployment.tp", "values": [1]}]})", "a key path");
  ExpectError(R"({"axes": [{"path": "$.a..b", "values": [1]}]})", "a key path");
  ExpectError(R"({"axes": [{"path": "$.a[x]", "values": [1]}]})", "a key path");
  ExpectError(R"({"axes": [{"path": "$.a", "paths": ["$.b"], "values": [1]}]})",
              "exactly one of \"path\"");
  ExpectError(R"({"axes": [{"path": "$.a"}]})", "exactly one of \"values\"");
  ExpectError(R"({"axes": [{"path": "$.a", "range": {"from": 1, "to": 4}}]})",
              "exactly one of \"step\"");
  ExpectError(R"({"axes": [{"path": "$.a", "range": {"from": 4, "to": 1, "step": 1}}]})",
              "a number >= from");
  ExpectError(R"({"axes": [{"path": "$.a", "range": {"from": 1, "to": 4, "factor": 1}}]})",
              "$.sweep.axes[0].range.factor");
  ExpectError(R"({"axes": [{"paths": ["$.a", "$.b"], "values": [[1]]}]})", "an array of 2 values");
  ExpectError(R"({"axes": [{"path": "$.a", "values": [1]}, {"path": "$.a", "values": [2]}]})",
              "a key that no other axis sets");
  ExpectError(R"({"axes": [{"path": "$.a", "values": [1]}], "min_gpus": 9, "max_gpus": 8})",
              "at most max_gpus");
  ExpectError(R"({"axes": [{"path": "$.a", "values": [1]}], "slos": [{"name": "x"}]})",
              "at least one of ttft_p90_s");
  ExpectError(R"({"axes": [{"path": "$.a", "values": [1]}], "objective": "speed"})",
              "$.sweep.objective");
  ExpectError(R"({"axes": [{"path": "$.a", "values": [1]}], "typo": 1})", "typo");
  ExpectError(R"({"axes": [{"path": "$.a", "range": {"from": 1, "to": 1e9, "step": 1}}]})",
              "more than 10000 points");
  ExpectError(R"({"axes": [
      {"path": "$.a", "range": {"from": 1, "to": 1000, "step": 1}},
      {"path": "$.b", "range": {"from": 1, "to": 1000, "step": 1}},
      {"path": "$.c", "range": {"from": 1, "to": 1000, "step": 1}}]})",
              "at most");
}

absl::StatusOr<SweepSpec> ParseRlvr(const std::string& text) {
  return ParseSweepSpec(nlohmann::json::parse(text), {"s.json", "$.sweep"}, true);
}

TEST_CASE("an RLVR sweep ranks by step time or $ per step and bounds the mean step",
          "[sweep][rlvr]") {
  auto s = ParseRlvr(R"({"axes": [{"path": "$.rlvr.schedule", "values": ["synchronous"]}],
      "slos": [{"name": "hourly", "step_time_s": 3600}, {"usd_per_step": 500}]})");
  INFO(s.status().message());
  REQUIRE(s.ok());
  CHECK(s->rlvr);
  CHECK(s->objective == SweepObjective::kRlvrStepTime);  // the default
  CHECK(s->simulate_all);                                // no screen
  CHECK_FALSE(s->representative_instances);
  REQUIRE(s->slos.size() == 2);
  CHECK(*s->slos[0].step_time_s == 3600);
  CHECK_FALSE(s->slos[0].usd_per_step.has_value());
  CHECK(*s->slos[1].usd_per_step == 500);
  auto cheap = ParseRlvr(R"({"axes": [{"path": "$.a", "values": [1]}],
      "objective": "rlvr_usd_per_step"})");
  REQUIRE(cheap.ok());
  CHECK(cheap->objective == SweepObjective::kRlvrUsdPerStep);
  CHECK(std::string(SweepObjectiveName(cheap->objective)) == "rlvr_usd_per_step");
}

TEST_CASE("serving and RLVR sweep keys do not mix", "[sweep][rlvr]") {
  const auto rlvr_error = [](const std::string& text, const std::string& fragment) {
    auto s = ParseRlvr(text);
    REQUIRE_FALSE(s.ok());
    INFO(s.status().message());
    CHECK(std::string(s.status().message()).find(fragment) != std::string::npos);
  };
  const std::string axes = R"("axes": [{"path": "$.a", "values": [1]}])";
  rlvr_error("{" + axes + R"(, "objective": "output_tok_per_s_per_gpu"})", "$.sweep.objective");
  rlvr_error("{" + axes + R"(, "slos": [{"tpot_p90_ms": 30}]})",
             "$.sweep.slos[0].tpot_p90_ms: got 30, expected no serving bound in an RLVR sweep");
  rlvr_error("{" + axes + R"(, "slos": [{"name": "x"}]})", "at least one of step_time_s");
  rlvr_error("{" + axes + R"(, "slos": [{"step_time_s": -1}]})", "$.sweep.slos[0].step_time_s");
  rlvr_error("{" + axes + R"(, "screen": {"keep_within_pct": 10}})",
             "$.sweep.screen: got {\"keep_within_pct\":10}, expected absent in an RLVR sweep");
  rlvr_error("{" + axes + R"(, "instances": "all"})", "$.sweep.instances");
  ExpectError("{" + axes + R"(, "slos": [{"step_time_s": 600}]})",
              "$.sweep.slos[0].step_time_s: got 600, expected no RLVR bound in a serving sweep");
  ExpectError("{" + axes + R"(, "objective": "rlvr_step_time_s"})", "$.sweep.objective");
}

TEST_CASE("sweep paths split into keys and indices", "[sweep]") {
  auto p = ParseSweepPath("$.deployment.pools[1].instances", {"s.json", "$.x"});
  REQUIRE(p.ok());
  REQUIRE(p->size() == 4);
  CHECK((*p)[0].key == "deployment");
  CHECK((*p)[2].key == "1");
  CHECK((*p)[2].index);
  CHECK_FALSE((*p)[3].index);
  CHECK_FALSE(ParseSweepPath("$.", {}).ok());
  CHECK_FALSE(ParseSweepPath("$.a.", {}).ok());
  CHECK_FALSE(ParseSweepPath("$.a/b", {}).ok());
  CHECK_FALSE(ParseSweepPath("$.a[99999999999]", {}).ok());
}

TEST_CASE("plans are the product of the axes, the last axis fastest", "[sweep]") {
  auto s = Parse(R"({"axes": [{"path": "$.x.a", "values": [1, 2]},
                                {"paths": ["$.y", "$.z[1]"], "values": [["p", 10], ["q", 20], ["r", 30]]}]})");
  REQUIRE(s.ok());
  CHECK(SweepColumns(*s) == std::vector<std::string>{"x.a", "y", "z[1]"});
  REQUIRE(s->PlanCount() == 6);
  CHECK(SweepPointValues(*s, 0) == std::vector<nlohmann::json>{1, "p", 10});
  CHECK(SweepPointValues(*s, 2) == std::vector<nlohmann::json>{1, "r", 30});
  CHECK(SweepPointValues(*s, 4) == std::vector<nlohmann::json>{2, "q", 20});

  const nlohmann::json base = nlohmann::json::parse(R"({"name": "n", "z": [0, 0, 0]})");
  auto doc = SweepPlanDocument(base, *s, 4);
  REQUIRE(doc.ok());
  CHECK((*doc)["x"]["a"] == 2);  // created
  CHECK((*doc)["y"] == "q");
  CHECK((*doc)["z"] == nlohmann::json::parse("[0, 20, 0]"));
  CHECK((*doc)["name"] == "n#4");

  // A path through a value that is not an object, or past an array's end, is named.
  auto bad = SweepPlanDocument(nlohmann::json::parse(R"({"name": "n", "x": 3, "z": [0]})"), *s, 0);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("cannot set $.x.a = 1: $.x is number") !=
        std::string::npos);
  auto short_array = SweepPlanDocument(nlohmann::json::parse(R"({"name": "n", "z": [0]})"), *s, 0);
  REQUIRE_FALSE(short_array.ok());
  CHECK(std::string(short_array.status().message()).find("an array without element 1") !=
        std::string::npos);
  // An index into an array the document does not have is an error, not a new object.
  auto absent = SweepPlanDocument(nlohmann::json::parse(R"({"name": "n"})"), *s, 0);
  REQUIRE_FALSE(absent.ok());
  CHECK(std::string(absent.status().message()).find("$.z is absent, not an array") !=
        std::string::npos);
}

}  // namespace
}  // namespace moesim
