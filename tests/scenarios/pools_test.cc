// deployment.pools: a scenario declares pools of different GPUs, stacks and plans; each is
// placed and memory-planned (plan/deployment.h). Roles must make a runnable plan (serve pools,
// or prefill and decode pools); tests/scenarios/disaggregation_test.cc runs the latter.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/simulation.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

// DeepSeek-V3 on four 8-GPU servers: a TP8 prefill pool on H200s and a DP-attention EP16
// decode pool on B200s.
nlohmann::json TwoPools() {
  nlohmann::json doc = testing::SmallScenarioJson(8, 64, "layer");
  doc["model"] = {{"preset", "DeepSeek-V3"}};
  doc["hardware"] = {{"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", 4}};
  doc["runtime"] = {{"preset", "sglang"}};
  doc["deployment"] = {
      {"pools",
       {{{"name", "prefill"}, {"role", "prefill"}, {"tensor_parallel", 8}, {"expert_parallel", 8}},
        {{"name", "decode"},
         {"role", "decode"},
         {"gpu", "B200"},
         {"runtime", {{"preset", "sglang"}, {"cuda_graph_max_batch", 256}}},
         {"attention", "data_parallel"},
         {"expert_parallel", 16}}}}};
  return doc;
}

TEST_CASE("pools: two pools of different GPUs are placed and memory-planned", "[pools]") {
  const Scenario s = testing::MustParse(TwoPools());
  REQUIRE(s.plan.pools.size() == 2);
  CHECK(s.plan.pools[0].gpu.name == "H200");
  CHECK(s.plan.pools[1].gpu.name == "B200");
  CHECK(s.plan.pools[1].runtime.cuda_graph_max_batch == 256);
  auto d = DeployScenario(s);
  REQUIRE(d.ok());
  CHECK(d->pools[0].servers == std::vector<int>{0});
  CHECK(d->pools[1].servers == std::vector<int>{1, 2});
  CHECK(d->pools[1].memory.kv_capacity_tokens > d->pools[0].memory.kv_capacity_tokens);
  // explain shows each pool as deployed.
  const nlohmann::json j = ScenarioToJson(s);
  const nlohmann::json& pools = j["deployment"]["pools"];
  REQUIRE(pools.size() == 2);
  CHECK(pools[0]["role"] == "prefill");
  CHECK(pools[1]["gpu"] == "B200");
  CHECK(pools[1]["servers"] == nlohmann::json::array({1, 2}));
  CHECK(pools[1]["per_gpu_memory"]["kv_capacity_tokens"].get<double>() > 0);
  CHECK(pools[1]["usd_per_gpu_hour"] != pools[0]["usd_per_gpu_hour"]);
}

TEST_CASE("pools: roles must make a runnable plan, named by path", "[pools][bad-input]") {
  auto error = [](const nlohmann::json& doc) {
    auto s = ParseScenario(doc, "test.json", testing::Presets());
    REQUIRE_FALSE(s.ok());
    return std::string(s.status().message());
  };
  nlohmann::json lone = TwoPools();
  lone["deployment"]["pools"].erase(0);
  CHECK_THAT(error(lone), Contains("test.json: $.deployment.pools: got \"no prefill pool\", "
                                   "expected at least one pool with \"role\": \"prefill\""));
  nlohmann::json mixed = TwoPools();
  mixed["deployment"]["pools"][0]["role"] = "serve";
  CHECK_THAT(error(mixed), Contains("$.deployment.pools[0].role: got \"serve\", expected "
                                    "\"prefill\" or \"decode\" in a disaggregated deployment"));
  nlohmann::json serve = TwoPools();
  serve["deployment"]["pools"][0]["role"] = "serve";
  serve["deployment"]["pools"][1]["role"] = "serve";
  serve["deployment"]["kv_transfer"] = {{"connector", "mooncake"}};
  CHECK_THAT(error(serve), Contains("$.deployment.kv_transfer: is read only by a disaggregated "
                                    "deployment"));
  nlohmann::json bad = TwoPools();
  bad["deployment"]["kv_transfer"] = {{"connector", "carrier-pigeon"}};
  CHECK_THAT(error(bad), Contains("$.deployment.kv_transfer.connector"));
  bad = TwoPools();
  bad["deployment"]["kv_transfer"] = {{"layerwise", "yes"}};
  CHECK_THAT(error(bad), Contains("$.deployment.kv_transfer.layerwise"));
  bad = TwoPools();
  bad["deployment"]["kv_transfer"] = {
      {"connector", {{"preset", "mooncake"}, {"link_efficiency", 1.5}}}};
  CHECK_THAT(error(bad), Contains("$.deployment.kv_transfer.connector.link_efficiency: got 1.5"));
  bad = TwoPools();
  bad["deployment"]["router"] = "kv_aware";
  CHECK_THAT(error(bad), Contains("$.deployment.router: got \"kv_aware\""));
  bad = TwoPools();
  bad["deployment"]["kv_transfer"] = {{"bandwidth", 3}};
  CHECK_THAT(error(bad), Contains("$.deployment.kv_transfer.bandwidth: unknown key"));
}

TEST_CASE("pools: step analysis names the multi-pool plans it cannot take", "[pools]") {
  const Scenario s = testing::MustParse(TwoPools());
  auto d = DeployScenario(s);
  REQUIRE(d.ok());
  auto serve = ServePool(s, *d);
  REQUIRE_FALSE(serve.ok());
  CHECK_THAT(std::string(serve.status().message()),
             Contains("test.json: $.deployment.pools: 2 pools: this command analyses a plan of "
                      "one \"serve\" pool"));
}

TEST_CASE("pools: one serve pool declared in deployment.pools runs as the top-level form does",
          "[pools]") {
  nlohmann::json top = testing::SmallScenarioJson(2, 16, "layer");
  top["simulation"]["duration_s"] = 3;
  nlohmann::json pooled = top;
  pooled["deployment"] = {
      {"pools",
       {{{"name", "serve"}, {"role", "serve"}, {"tensor_parallel", 2}, {"expert_parallel", 2}}}}};
  const auto r = testing::RunReports({top, pooled});
  CHECK(r[0].dump() == r[1].dump());
}

TEST_CASE("pools: bad pool declarations name the pool and the key", "[pools][bad-input]") {
  auto error = [](const nlohmann::json& doc) {
    auto s = ParseScenario(doc, "bad.json", testing::Presets());
    REQUIRE_FALSE(s.ok());
    return std::string(s.status().message());
  };
  nlohmann::json doc = TwoPools();
  doc["deployment"]["tensor_parallel"] = 8;
  CHECK_THAT(error(doc), Contains("bad.json: $.deployment.tensor_parallel: with \"pools\" every "
                                  "deployment key except"));
  doc = TwoPools();
  doc["deployment"]["pools"][1]["name"] = "prefill";
  CHECK_THAT(error(doc), Contains("$.deployment.pools[1].name: got \"prefill\", expected a name "
                                  "no other pool has"));
  doc = TwoPools();
  doc["deployment"]["pools"][0]["role"] = "train";
  CHECK_THAT(error(doc), Contains("$.deployment.pools[0].role: got \"train\""));
  doc = TwoPools();
  doc["deployment"]["pools"] = nlohmann::json::array();
  CHECK_THAT(error(doc), Contains("$.deployment.pools: got [], expected a non-empty array"));
  doc = TwoPools();
  doc["deployment"]["pools"][1]["expert_parallel"] = 32;  // 4 servers: only 3 are free
  CHECK_THAT(error(doc), Contains("$.deployment.pools[1].instances: got 1, expected at most 0 "
                                  "instances of 32 GPUs"));
  doc = TwoPools();
  doc["deployment"]["pools"][0]["gpu"] = "H300";
  CHECK_THAT(error(doc), Contains("$.deployment.pools[0].gpu"));
  doc = TwoPools();
  doc["deployment"]["pools"][0]["colour"] = "red";
  CHECK_THAT(error(doc), Contains("$.deployment.pools[0].colour: unknown key"));
}

}  // namespace
}  // namespace moesim
