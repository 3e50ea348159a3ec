// Preemptions are counted when they happen (issue 17): a run whose KV cache is full and whose
// requests do not finish inside the window still reports them.
#include <cmath>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/simulation.h"

namespace moesim {
namespace {

TEST_CASE("preemptions are counted at event time, not when requests finish", "[preemption][kv]") {
  nlohmann::json doc = testing::SmallScenarioJson(1, 256, "step");
  doc["hardware"]["gpus_per_server"] = 1;
  // A small KV cache (memory fraction just above weights + reserve) and answers far longer than
  // the run: nothing finishes, the running sequences outgrow the cache and get preempted.
  doc["runtime"]["memory_fraction"] = 0.55;
  doc["workload"]["input_tokens"] = {{"kind", "fixed"}, {"tokens", 2000}};
  doc["workload"]["output_tokens"] = {{"kind", "fixed"}, {"tokens", 20000}};
  doc["simulation"]["duration_s"] = 20;
  doc["simulation"]["warmup_s"] = 2;
  auto run = RunSimulation(testing::MustParse(doc));
  REQUIRE(run.ok());
  const nlohmann::json& r = *run;
  INFO(r["kv"].dump());
  CHECK(r["latency_s"]["e2e"]["count"].get<int>() == 0);
  CHECK(r["kv"]["peak_utilisation"].get<double>() > 0.95);
  CHECK(r["kv"]["preemptions"].get<int>() > 0);
  // A preempted sequence's prompt (and what it generated) is prefilled again: processed, not
  // served again. Every prompt served counts its 2,000 tokens once, when its first prefill
  // completes.
  const nlohmann::json& t = r["throughput"];
  const double served = t["input_tok_per_s"].get<double>() * r["window_s"].get<double>();
  CHECK(served / 2000 == Approx(std::round(served / 2000)).margin(1e-6));
  CHECK(t["total_tok_per_s"].get<double>() ==
        Approx(t["input_tok_per_s"].get<double>() + t["output_tok_per_s"].get<double>()));
}

}  // namespace
}  // namespace moesim
