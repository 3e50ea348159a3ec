// Time series (engine/time_series.h): steps spread over intervals by their time, tokens counted
// where steps end, latencies of the requests finished in each interval, and the run's series
// adding up to its report.
#include "engine/time_series.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

TEST_CASE("time series: steps and requests land in their intervals", "[timeseries]") {
  TimeSeriesObserver ts(/*duration_s=*/4, /*interval_s=*/1, /*instances=*/2);
  StepRecord a;
  a.start_s = 0.5;
  a.end_s = 1.5;  // half in [0, 1), half in [1, 2)
  a.output_tokens = 10;
  a.running = 4;
  a.waiting = 2;
  a.kv_used_blocks = 50;
  a.kv_total_blocks = 100;
  TimeBreakdown b;
  b.tier_bytes = {3e9, 0, 0, 0};
  ts.OnStep(0, a, b);
  Request r;
  r.arrival_s = 2.0;
  r.first_token_s = 2.2;
  r.finish_s = 3.2;
  r.output_tokens = 11;  // TPOT 0.1 s
  ts.OnRequestFinished(r);
  const nlohmann::json j = ts.ToJson();
  CHECK(j["t_s"] == nlohmann::json::parse("[0.0, 1.0, 2.0, 3.0]"));
  CHECK(j["output_tok_per_s"][0] == 0.0);
  CHECK(j["output_tok_per_s"][1] == 10.0);  // counted where the step ends
  CHECK(j["running"][0] == Approx(2.0));    // 4 running for half the interval
  CHECK(j["running"][1] == Approx(2.0));
  CHECK(j["queued"][1] == Approx(1.0));
  CHECK(j["kv_utilisation"][0] == Approx(0.5 * 0.5 / 2));  // half full, half the time, 2 instances
  CHECK(j["tier_gb_per_s"]["scale_up"][1] == Approx(3.0));
  CHECK(j["finished"][3] == 1);
  CHECK(j["ttft_p50_s"][3] == Approx(0.2));
  CHECK(j["tpot_p50_s"][3] == Approx(0.1));
  CHECK(j["ttft_p50_s"][2].is_null());  // nothing finished there
}

TEST_CASE("time series: a run's intervals add up to its report", "[timeseries]") {
  nlohmann::json doc = testing::SmallScenarioJson(2, 24, "layer");
  doc["simulation"]["timeseries_interval_s"] = 0.5;
  const Scenario s = testing::MustParse(doc);
  auto r = testing::SimulateInChild(s);
  REQUIRE(r.ok());
  const nlohmann::json report = *r;
  const auto& ts = report["timeseries"];
  CHECK(ts["interval_s"] == 0.5);
  // Output tokens of the steps ending inside the window, from the series, against the report's.
  const double warmup = s.simulation.warmup_s, end = s.simulation.duration_s;
  double tokens = 0;
  int64_t finished = 0;
  for (size_t i = 0; i < ts["t_s"].size(); ++i) {
    const double t = ts["t_s"][i].get<double>();
    if (t < warmup || t >= end) continue;
    tokens += ts["output_tok_per_s"][i].get<double>() * std::min(0.5, end - t);
    finished += ts["finished"][i].get<int64_t>();
  }
  const double window = report["window_s"].get<double>();
  // Within 1 %: the report counts a step by whether it ends inside the window, the series by
  // the interval its end falls in; they differ only for steps that straddle the window's edges.
  CHECK(tokens / window ==
        Approx(report["throughput"]["output_tok_per_s"].get<double>()).epsilon(0.01));
  CHECK(finished == report["latency_s"]["e2e"]["count"].get<int64_t>());
}

TEST_CASE("time series: a bad interval names the key", "[timeseries][bad-input]") {
  nlohmann::json doc = testing::SmallScenarioJson(2, 24, "layer");
  doc["simulation"]["timeseries_interval_s"] = 0;
  auto s = ParseScenario(doc, "ts.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.status().message()).find("$.simulation.timeseries_interval_s") !=
        std::string::npos);
}

}  // namespace
}  // namespace moesim
