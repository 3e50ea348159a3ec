// Prefill/decode disaggregation (issue 11), run on the shipped scenarios of
// scenarios/disaggregation/: requests flow router -> prefill pool -> decode reservation -> KV
// transfer (SimGrid flows on the routed links) -> decode pool, and the report splits the time
// to first token into those stages. Every run also checks, after the end, that no request and
// no KV block was lost (engine/simulation.cc CheckConservation): a broken invariant fails the
// run, so each test here exercises it.
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/simulation.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

nlohmann::json Shipped(const std::string& name) {
  return testing::ShippedScenario("disaggregation", name);
}

// Shorter runs of the shipped scenarios (the tests compare, they do not need steady tails).
nlohmann::json Short(nlohmann::json doc) {
  doc["simulation"]["duration_s"] = 40;
  doc["simulation"]["warmup_s"] = 10;
  return doc;
}

double Mean(const nlohmann::json& distribution) { return distribution["mean"].get<double>(); }

TEST_CASE("disaggregation: 1P1D moves every prompt's KV over the NICs; TTFT stages add up",
          "[disaggregation]") {
  const Scenario s = testing::MustParse(Short(Shipped("deepseek-v3-h200-1p1d-tp8")));
  auto run = RunSimulation(s);
  REQUIRE(run.ok());
  const nlohmann::json& r = *run;
  REQUIRE(r["pools"].size() == 2);
  CHECK(r["pools"]["prefill"]["role"] == "prefill");
  CHECK(r["pools"]["decode"]["role"] == "decode");
  CHECK(r["plan"]["gpus"] == 16);
  const nlohmann::json& t = r["throughput"];
  CHECK(t["total_tok_per_s_per_gpu"].get<double>() ==
        Approx(t["total_tok_per_s"].get<double>() / 16));
  CHECK(t["output_tok_per_s_per_decode_gpu"].get<double>() ==
        Approx(t["output_tok_per_s"].get<double>() / 8));
  // The prefill pool's tokens are the prompts: 2,000-4,000 per request.
  const double prefill_tps = r["pools"]["prefill"]["throughput"]["total_tok_per_s"].get<double>();
  CHECK(prefill_tps > 2000 * t["requests_per_s"].get<double>() * 0.8);

  const nlohmann::json& kv = r["disaggregation"]["kv_transfer"];
  CHECK(kv["transfers"].get<int>() > 100);
  // MLA: the latent is whole on every TP rank, so each of the 8 decode GPUs receives a copy of
  // the prompt's KV (656 B per token per layer in fp8 with its scales, 61 layers).
  const double per_token = s.model.SequenceKvBytes(1000, 1, 2) / 1000;
  const double tokens_per_transfer = kv["mean_bytes"].get<double>() / (8 * per_token);
  CHECK(tokens_per_transfer > 2000);
  CHECK(tokens_per_transfer < 4000);
  CHECK(kv["tiers"]["scale_up"]["bytes"].get<double>() == 0);
  CHECK(kv["tiers"]["scale_out"]["bytes"].get<double>() > 0);
  // Setup (415.5 us) plus 1/8 of ~200 MB... per NIC at 74 % of 50 GB/s.
  CHECK(Mean(kv["seconds"]) > 415.5e-6 + 2000 * per_token / (0.741 * 50e9));
  CHECK(Mean(kv["seconds"]) < 415.5e-6 + 4000 * per_token / (0.741 * 50e9) + 1e-3);

  const nlohmann::json& stages = r["latency_s"]["ttft_stages"];
  double sum = 0;
  for (const char* k :
       {"prefill_queue", "prefill", "decode_reservation", "kv_transfer", "decode_admission"}) {
    CHECK(Mean(stages[k]) >= 0);
    sum += Mean(stages[k]);
  }
  CHECK(sum == Approx(Mean(r["latency_s"]["ttft"])).epsilon(1e-9));
  CHECK(Mean(stages["kv_transfer"]) == Approx(Mean(kv["seconds"])).epsilon(0.1));
  CHECK(r["disaggregation"]["decode_back_pressure"]["mean_waiting_requests"].get<double>() == 0);
}

TEST_CASE(
    "disaggregation: pays on 16 H200s (decode no longer paused by prefill), not with "
    "a latency-bound DP-attention EP16 decode group over two servers",
    "[disaggregation]") {
  // The shipped windows: the colocated pools' running batches take a minute to build up.
  const auto r = testing::RunReports(
      {Shipped("deepseek-v3-h200-colocated-2xtp8"), Shipped("deepseek-v3-h200-1p1d-tp8"),
       Shipped("deepseek-v3-h200-colocated-4xtp8"), Shipped("deepseek-v3-h200-2p1d-dpa-ep16")});
  auto tpot_p90 = [&](int i) { return r[i]["latency_s"]["tpot"]["p90"].get<double>(); };
  auto ttft_p90 = [&](int i) { return r[i]["latency_s"]["ttft"]["p90"].get<double>(); };
  auto per_gpu = [&](int i) {
    return r[i]["throughput"]["output_tok_per_s_per_gpu"].get<double>();
  };
  // scenarios/README.md: a target of TPOT p90 <= 30 ms and TTFT p90 <= 500 ms.
  CHECK(tpot_p90(0) > 0.030);
  CHECK(tpot_p90(1) < 0.030);
  CHECK(ttft_p90(1) < 0.5);
  CHECK(ttft_p90(1) > ttft_p90(0));  // one prefill instance takes every prompt
  CHECK(tpot_p90(3) > 1.2 * tpot_p90(2));
  // The offered load is the same, so throughput per GPU is too (within 5 %).
  CHECK(per_gpu(1) == Approx(per_gpu(0)).epsilon(0.05));
  CHECK(per_gpu(3) == Approx(per_gpu(2)).epsilon(0.05));
}

TEST_CASE("disaggregation: the same scenario and seed give byte-identical reports",
          "[disaggregation][determinism]") {
  const nlohmann::json doc = Short(Shipped("deepseek-v3-h200-2p1d-dpa-ep16"));
  const auto r = testing::RunReports({doc, doc});
  CHECK(r[0].dump() == r[1].dump());
}

TEST_CASE("disaggregation: a decode pool short of KV makes prompts wait; it is the limit",
          "[disaggregation]") {
  nlohmann::json roomy = Short(Shipped("deepseek-v3-h200-1p1d-tp8"));
  roomy["workload"]["output_tokens"] = {
      {"kind", "uniform"}, {"min_tokens", 600}, {"max_tokens", 1000}};
  nlohmann::json doc = roomy;
  doc["deployment"]["pools"][1]["runtime"] = {{"preset", "sglang"}, {"memory_fraction", 0.62}};
  const auto runs = testing::RunReports({roomy, doc});
  const nlohmann::json& r = runs[1];
  const nlohmann::json& bp = r["disaggregation"]["decode_back_pressure"];
  CHECK(bp["mean_waiting_requests"].get<double>() > 1);
  CHECK(bp["max_waiting_requests"].get<int>() > 5);
  CHECK(Mean(r["latency_s"]["ttft_stages"]["decode_reservation"]) > 0);
  CHECK(r["limit"]["pool"] == "decode");
  CHECK(r["pools"]["decode"]["limit"]["subsystem"] == "kv_capacity");
  // The waiting prompts' KV stays on the prefill GPUs until it moves: the prefill pool holds
  // far more KV than with a decode pool that has room.
  const double held = r["pools"]["prefill"]["kv"]["mean_utilisation"].get<double>();
  const double free_flowing = runs[0]["pools"]["prefill"]["kv"]["mean_utilisation"].get<double>();
  INFO("prefill KV use: " << held << " with back-pressure, " << free_flowing << " without");
  CHECK(held > 3 * free_flowing);
  CHECK(runs[0]["disaggregation"]["decode_back_pressure"]["mean_waiting_requests"] == 0.0);
}

TEST_CASE("disaggregation: layer-wise transfers hide the KV move behind the prefill step",
          "[disaggregation]") {
  const nlohmann::json whole = Short(Shipped("deepseek-v3-h200-1p1d-tp8"));
  nlohmann::json layerwise = whole;
  layerwise["deployment"]["kv_transfer"]["layerwise"] = true;
  const auto r = testing::RunReports({whole, layerwise});
  const double exposed_whole = Mean(r[0]["latency_s"]["ttft_stages"]["kv_transfer"]);
  const double exposed_layerwise = Mean(r[1]["latency_s"]["ttft_stages"]["kv_transfer"]);
  INFO("exposed transfer: whole " << exposed_whole << " s, layer-wise " << exposed_layerwise);
  CHECK(exposed_layerwise < 0.25 * exposed_whole);
  CHECK(Mean(r[1]["latency_s"]["ttft"]) < Mean(r[0]["latency_s"]["ttft"]));
  // The same bytes move either way.
  CHECK(r[1]["disaggregation"]["kv_transfer"]["mean_bytes"].get<double>() ==
        Approx(r[0]["disaggregation"]["kv_transfer"]["mean_bytes"].get<double>()).epsilon(0.05));
}

TEST_CASE(
    "disaggregation: inside one NVL72 domain KV moves over NVLink, across racks over "
    "NICs and the inter-rack tier, several times slower",
    "[disaggregation][fabrics]") {
  const auto r = testing::RunReports({Short(Shipped("deepseek-v3-gb200-1p1d-one-nvl72")),
                                      Short(Shipped("deepseek-v3-gb200-1p1d-two-racks-400gbe"))});
  const nlohmann::json& nvl = r[0]["disaggregation"]["kv_transfer"];
  const nlohmann::json& racks = r[1]["disaggregation"]["kv_transfer"];
  CHECK(nvl["tiers"]["scale_up"]["bytes"].get<double>() > 0);
  CHECK(nvl["tiers"]["scale_out"]["bytes"].get<double>() == 0);
  CHECK(racks["tiers"]["scale_up"]["bytes"].get<double>() == 0);
  CHECK(racks["tiers"]["inter_rack"]["bytes"].get<double>() > 0);
  CHECK(Mean(racks["seconds"]) > 4 * Mean(nvl["seconds"]));
  CHECK(Mean(r[1]["latency_s"]["ttft"]) > Mean(r[0]["latency_s"]["ttft"]));
  // Decode is untouched by where the KV came from.
  CHECK(r[1]["latency_s"]["tpot"]["p50"].get<double>() ==
        Approx(r[0]["latency_s"]["tpot"]["p50"].get<double>()).epsilon(0.02));
}

TEST_CASE(
    "disaggregation: heterogeneous pools, and a DP-attention decode rank gets one copy of "
    "the latent where TP8 decode gets eight",
    "[disaggregation]") {
  const auto r = testing::RunReports({Short(Shipped("deepseek-v3-h200-1p1d-tp8")),
                                      Short(Shipped("deepseek-v3-1p-h200-1d-b200")),
                                      Short(Shipped("deepseek-v3-h200-2p1d-dpa-ep16"))});
  CHECK(r[1]["pools"]["prefill"]["plan"]["gpu"] == "H200");
  CHECK(r[1]["pools"]["decode"]["plan"]["gpu"] == "B200");
  // B200 decode: more HBM bandwidth, shorter decode steps.
  CHECK(r[1]["latency_s"]["tpot"]["p50"].get<double>() <
        0.85 * r[0]["latency_s"]["tpot"]["p50"].get<double>());
  const double tp8 = r[0]["disaggregation"]["kv_transfer"]["mean_bytes"].get<double>();
  const double dpa = r[2]["disaggregation"]["kv_transfer"]["mean_bytes"].get<double>();
  CHECK(dpa == Approx(tp8 / 8).epsilon(0.1));
  CHECK(r[2]["pools"]["decode"]["plan"]["attention"] == "data_parallel");
}

TEST_CASE("disaggregation: two serve pools of different GPUs share the traffic, no hand-off",
          "[disaggregation][pools]") {
  nlohmann::json doc = testing::SmallScenarioJson(2, 32, "layer");
  doc["simulation"]["duration_s"] = 4;
  doc["deployment"] = {
      {"pools",
       {{{"name", "h200"}, {"role", "serve"}, {"tensor_parallel", 2}, {"expert_parallel", 2}},
        {{"name", "b200"},
         {"role", "serve"},
         {"gpu", "B200"},
         {"tensor_parallel", 2},
         {"expert_parallel", 2}}}},
      {"router", "round_robin"}};
  doc["hardware"]["servers_per_rack"] = 2;
  auto run = RunSimulation(testing::MustParse(doc));
  REQUIRE(run.ok());
  const nlohmann::json& r = *run;
  CHECK_FALSE(r.contains("disaggregation"));
  CHECK(r["plan"]["router"] == "round_robin");
  CHECK(r["pools"]["h200"]["throughput"]["output_tok_per_s"].get<double>() > 0);
  CHECK(r["pools"]["b200"]["throughput"]["output_tok_per_s"].get<double>() > 0);
  CHECK(r["throughput"]["output_tok_per_s"].get<double>() ==
        Approx(r["pools"]["h200"]["throughput"]["output_tok_per_s"].get<double>() +
               r["pools"]["b200"]["throughput"]["output_tok_per_s"].get<double>()));
}

TEST_CASE("disaggregation: first_rack puts a pool in a later rack, checked by path",
          "[disaggregation][bad-input]") {
  nlohmann::json doc = Shipped("deepseek-v3-gb200-1p1d-two-racks-400gbe");
  const Scenario s = testing::MustParse(doc);
  auto d = DeployScenario(s);
  REQUIRE(d.ok());
  CHECK(d->pools[0].servers.front() / 18 == 0);
  CHECK(d->pools[1].servers.front() / 18 == 1);
  doc["deployment"]["pools"][1]["first_rack"] = 2;
  auto bad = ParseScenario(doc, "racks.json", testing::Presets());
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()),
             Contains("racks.json: $.deployment.pools[1].first_rack: got 2, expected a rack index "
                      "below the cluster's 2 racks"));
}

}  // namespace
}  // namespace moesim
