// Scenario tests for the fabric questions (issue: cluster topology and fabrics): the shipped
// fabric scenarios, shortened, must show the effects their descriptions claim.
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"

namespace moesim {
namespace {

nlohmann::json Load(const std::string& relative) {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR "/scenarios/") + relative);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

std::vector<nlohmann::json> Run(const std::vector<nlohmann::json>& docs) {
  return testing::RunReports(docs);
}

double Num(const nlohmann::json& j) { return j.get<double>(); }

TEST_CASE("400GbE everywhere: communication grows and becomes the limit (seed 002 note 4)",
          "[scenarios][fabrics]") {
  nlohmann::json nvlink = Load("fabrics/deepseek-v3-8xh200-nvlink.json");
  nlohmann::json ethernet = Load("fabrics/deepseek-v3-8xh200-400gbe.json");
  for (nlohmann::json* d : {&nvlink, &ethernet}) {
    (*d)["simulation"]["duration_s"] = 60;
    (*d)["simulation"]["warmup_s"] = 20;
  }
  const auto r = Run({nvlink, ethernet});
  const auto &n = r[0], &e = r[1];
  CHECK(Num(e["time_share"]["communication"]) > 2 * Num(n["time_share"]["communication"]));
  CHECK(Num(e["throughput"]["output_tok_per_s"]) < 0.8 * Num(n["throughput"]["output_tok_per_s"]));
  CHECK(e["limit"]["subsystem"] == "communication");
  CHECK(n["limit"]["subsystem"] != "communication");
  // The scale-up tier is far more utilised when its ports carry 50 instead of 450 GB/s.
  CHECK(Num(e["fabric"]["tiers"]["scale_up"]["utilisation"]) >
        3 * Num(n["fabric"]["tiers"]["scale_up"]["utilisation"]));
}

TEST_CASE("an oversubscribed spine shared by two instances slows both and becomes the limit",
          "[scenarios][fabrics]") {
  nlohmann::json one = Load("fabrics/qwen3-235b-tp16-2racks-spine-1to1.json");
  nlohmann::json eight = Load("fabrics/qwen3-235b-tp16-2racks-spine-8to1.json");
  for (nlohmann::json* d : {&one, &eight}) {
    (*d)["simulation"]["duration_s"] = 45;
    (*d)["simulation"]["warmup_s"] = 25;
  }
  // The same 8:1 cluster with analytic collectives: each instance alone on the links (no
  // sharing between instances).
  nlohmann::json eight_alone = eight;
  eight_alone["simulation"]["collectives"] = "analytic";
  const auto r = Run({one, eight, eight_alone});
  const double t1 = Num(r[0]["throughput"]["output_tok_per_s"]);
  const double t8 = Num(r[1]["throughput"]["output_tok_per_s"]);
  const double t8_alone = Num(r[2]["throughput"]["output_tok_per_s"]);
  INFO("1:1 " << t1 << " tok/s, 8:1 shared " << t8 << ", 8:1 without sharing " << t8_alone);
  CHECK(t8 < 0.7 * t1);
  CHECK(t8 < 0.9 * t8_alone);  // the two instances slow each other down on the shared uplinks
  CHECK(r[1]["limit"]["subsystem"] == "communication");
  CHECK(Num(r[1]["fabric"]["tiers"]["inter_rack"]["utilisation"]) >
        2 * Num(r[0]["fabric"]["tiers"]["inter_rack"]["utilisation"]));
  CHECK(Num(r[1]["fabric"]["tiers"]["inter_rack"]["comm_time_share"]) > 0.2);
}

}  // namespace
}  // namespace moesim
