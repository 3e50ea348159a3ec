// The three step-executor fidelities agree exactly on an isolated instance: "step" computes
// all-reduces in closed form, "layer" runs them as SimGrid flows on the NVLink ports, "kernel"
// additionally runs every kernel as a SimGrid Exec. Each simulation runs in its own process.
// Agreement is to 1e-5 relative: SimGrid flows carry whole (truncated) bytes and solve rates in
// doubles; the custom one-shot all-reduce of small messages moves every peer's whole message in
// its own flow (12 flows of ~30 KB at TP4), so the truncation moves a step by ~5e-6.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

nlohmann::json RunIsolated(const Scenario& s) {
  auto out = RunInSubprocesses({[&s]() -> absl::StatusOr<std::string> {
                                 auto r = RunSimulation(s);
                                 if (!r.ok()) return r.status();
                                 return r->dump();
                               }},
                               1);
  REQUIRE(out[0].ok());
  return nlohmann::json::parse(*out[0]);
}

TEST_CASE("step, layer and kernel fidelity give the same results on an isolated TP=4 instance",
          "[fidelity]") {
  const Scenario step = testing::MustParse(testing::SmallScenarioJson(4, 16, "step"));
  const Scenario layer = testing::MustParse(testing::SmallScenarioJson(4, 16, "layer"));
  const Scenario kernel = testing::MustParse(testing::SmallScenarioJson(4, 16, "kernel"));
  const nlohmann::json a = RunIsolated(step);
  const nlohmann::json b = RunIsolated(layer);
  const nlohmann::json c = RunIsolated(kernel);
  REQUIRE(a["batch"]["steps"].get<int>() > 100);
  for (const nlohmann::json* other : {&b, &c}) {
    CHECK((*other)["batch"]["steps"] == a["batch"]["steps"]);
    CHECK((*other)["throughput"]["output_tok_per_s"].get<double>() ==
          Approx(a["throughput"]["output_tok_per_s"].get<double>()).epsilon(1e-5));
    CHECK((*other)["batch"]["mean_step_ms"].get<double>() ==
          Approx(a["batch"]["mean_step_ms"].get<double>()).epsilon(1e-5));
    // Communication time is the small difference of nanosecond-precision SimGrid times
    // (surf/precision 1e-9 s per activity, ~100 all-reduces a step): 1e-4 relative.
    CHECK((*other)["time_share"]["communication"].get<double>() ==
          Approx(a["time_share"]["communication"].get<double>()).epsilon(1e-4));
  }
  // TP=4 all-reduces took time: the comparison exercised the SimGrid flows.
  CHECK(a["time_share"]["communication"].get<double>() > 0.01);
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

TEST_CASE("pipeline parallel over two servers: step, layer and kernel fidelity agree",
          "[fidelity][pp]") {
  auto make = [](const std::string& fidelity) {
    nlohmann::json doc = testing::SmallScenarioJson(2, 32, fidelity);
    doc["hardware"] = {{"gpu", "H200"}, {"gpus_per_server", 2}, {"servers_per_rack", 2}};
    doc["deployment"] = {{"tensor_parallel", 2}, {"expert_parallel", 2}, {"pipeline_parallel", 2}};
    return testing::MustParse(doc);
  };
  const nlohmann::json a = RunIsolated(make("step"));
  const nlohmann::json b = RunIsolated(make("layer"));
  const nlohmann::json c = RunIsolated(make("kernel"));
  REQUIRE(a["batch"]["steps"].get<int>() > 100);
  for (const nlohmann::json* other : {&b, &c}) {
    CHECK((*other)["batch"]["steps"] == a["batch"]["steps"]);
    CHECK((*other)["throughput"]["output_tok_per_s"].get<double>() ==
          Approx(a["throughput"]["output_tok_per_s"].get<double>()).epsilon(1e-5));
  }
  // Stage sends cross the NICs: scale-out bytes are counted; both stages' GPUs show up.
  CHECK(a["fabric"]["tiers"]["scale_out"]["bytes"].get<double>() > 0);
  CHECK(a["plan"]["gpus"] == 4);
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

// The EP group kind runs through the same runner: the all-to-alls' per-pair SimGrid flows on
// one NVSwitch server agree with their closed-form cost. "kernel" fidelity is rejected there
// (tests/scenarios/bad_input_test.cc): the ranks' kernels interleave in one walk.
TEST_CASE("a DP-attention EP group: step and layer fidelity agree", "[fidelity][dp-attention]") {
  auto make = [](const std::string& fidelity) {
    nlohmann::json doc = testing::SmallScenarioJson(1, 64, fidelity);
    doc["deployment"] = {{"attention", "data_parallel"}, {"expert_parallel", 4}};
    doc["hardware"]["gpus_per_server"] = 4;
    return testing::MustParse(doc);
  };
  const nlohmann::json a = RunIsolated(make("step"));
  const nlohmann::json b = RunIsolated(make("layer"));
  REQUIRE(a["batch"]["steps"].get<int>() > 100);
  CHECK(a["plan"]["attention"] == "data_parallel");
  CHECK(b["batch"]["steps"] == a["batch"]["steps"]);
  CHECK(b["throughput"]["output_tok_per_s"].get<double>() ==
        Approx(a["throughput"]["output_tok_per_s"].get<double>()).epsilon(1e-5));
  CHECK(b["batch"]["mean_step_ms"].get<double>() ==
        Approx(a["batch"]["mean_step_ms"].get<double>()).epsilon(1e-5));
  // The all-to-alls took time: the comparison exercised the SimGrid flows.
  CHECK(a["time_share"]["communication"].get<double>() > 0.01);
}

}  // namespace
}  // namespace moesim
