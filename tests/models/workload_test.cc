// Tests for models/workload.h: request-length distributions, arrivals, and the generator's
// determinism.
#include "models/workload.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace moesim {
namespace {

using nlohmann::json;

constexpr int kDraws = 100000;

LengthDistribution Uniform(int64_t lo, int64_t hi) {
  LengthDistribution d;
  d.kind = LengthDistribution::Kind::kUniform;
  d.min_tokens = lo;
  d.max_tokens = hi;
  return d;
}

LengthDistribution LogNormal(double median, double sigma, int64_t max_tokens) {
  LengthDistribution d;
  d.kind = LengthDistribution::Kind::kLogNormal;
  d.median_tokens = median;
  d.sigma = sigma;
  d.max_tokens = max_tokens;
  return d;
}

WorkloadSpec PoissonSpec(double rate, LengthDistribution in, LengthDistribution out) {
  WorkloadSpec s;
  s.arrival = WorkloadSpec::Arrival::kPoisson;
  s.rate_per_s = rate;
  s.input_tokens = in;
  s.output_tokens = out;
  return s;
}

// "Sampling is deterministic for a given seed" (models/workload.h): same seed -> identical
// sequences (exact); different seeds -> different sequences (200 uniform draws over 4000 values
// coincide by chance with probability ~(1/4000)^200).
TEST_CASE("WorkloadGenerator is deterministic for a seed", "[workload]") {
  const WorkloadSpec spec = PoissonSpec(10.0, Uniform(1, 4000), LogNormal(300, 1.0, 8192));
  WorkloadGenerator a(spec, 42), b(spec, 42), c(spec, 43);
  std::vector<double> sa, sb, sc;
  for (int i = 0; i < 200; ++i) {
    for (WorkloadGenerator* g : {&a, &b, &c}) {
      std::vector<double>& out = g == &a ? sa : g == &b ? sb : sc;
      out.push_back(double(g->NextInputTokens()));
      out.push_back(double(g->NextOutputTokens()));
      out.push_back(g->NextInterarrivalSeconds());
    }
  }
  CHECK(sa == sb);
  CHECK(sa != sc);
}

// Uniform over [min, max] inclusive: every draw in range, both ends reached, mean within 2% of
// (min+max)/2 = 550 over 100k draws (the brief's tolerance; the standard error is
// 260/sqrt(1e5) ≈ 0.8 tokens = 0.15%).
TEST_CASE("Uniform lengths stay within [min, max] with the right mean", "[workload]") {
  const WorkloadSpec spec = PoissonSpec(1.0, Uniform(100, 1000), Uniform(7, 7));
  WorkloadGenerator g(spec, 7);
  double sum = 0;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t x = g.NextInputTokens();
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x;
    CHECK(g.NextOutputTokens() == 7);  // degenerate uniform [7, 7]
  }
  CHECK(lo >= 100);
  CHECK(hi <= 1000);
  CHECK(lo == 100);  // with 1e5 draws over 901 values each end appears ~111 times
  CHECK(hi == 1000);
  CHECK(sum / kDraws == Approx(spec.input_tokens.Mean()).epsilon(0.02));
  CHECK(spec.input_tokens.Mean() == 550.0);
}

// Log-normal: median exp(mu) = median_tokens (models/workload.h), so the sample median of 100k
// draws is within 3% of 500 (the brief's tolerance; the standard error of the median is
// ≈ 1.2533·σ·median/sqrt(n) ≈ 2 tokens = 0.4%). Max() is the clamp.
TEST_CASE("Log-normal lengths have the configured median", "[workload]") {
  const WorkloadSpec spec = PoissonSpec(1.0, LogNormal(500, 1.0, 1000000), Uniform(1, 1));
  WorkloadGenerator g(spec, 11);
  std::vector<int64_t> xs(kDraws);
  for (auto& x : xs) x = g.NextInputTokens();
  std::nth_element(xs.begin(), xs.begin() + kDraws / 2, xs.end());
  CHECK(double(xs[kDraws / 2]) == Approx(500.0).epsilon(0.03));
  // Mean(): with the clamp 2000 medians away it is the unclamped median·exp(σ²/2) = 500·e^0.5
  // = 824.36 (the clamp's share is Φ(−6.6) ≈ 2e-11 of it).
  CHECK(spec.input_tokens.Mean() == Approx(500.0 * std::exp(0.5)).epsilon(1e-9));
  CHECK(spec.input_tokens.Max() == 1000000);
}

// Mean() is the mean of what is drawn, clamp included (models/workload.h): median 1000, σ = 2,
// max 2000 gives 1000·e²·Φ(ln2/2 − 2) + 2000·(1 − Φ(ln2/2)) = 7389·0.0492 + 2000·0.3645 ≈ 1092,
// where the unclamped mean would be 7389. 100k draws: standard error ≈ 2.4 tokens (0.2 %).
TEST_CASE("Log-normal Mean() is the mean of the clamped draws", "[workload]") {
  const WorkloadSpec spec = PoissonSpec(1.0, LogNormal(1000, 2.0, 2000), Uniform(1, 1));
  WorkloadGenerator g(spec, 17);
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) sum += double(g.NextInputTokens());
  CHECK(spec.input_tokens.Mean() == Approx(1092.0).epsilon(0.01));
  CHECK(sum / kDraws == Approx(spec.input_tokens.Mean()).epsilon(0.01));
  // σ = 0: every draw is the median, the mean too.
  CHECK(LogNormal(700, 0.0, 2000).Mean() == 700.0);
}

// "clamped to [1, max_tokens]" (models/workload.h): with median 1000, σ = 2 and max 2000, about
// 36% of draws exceed the max (P(Z > ln 2 / 2) = 0.364), so the clamp must be hit; every draw
// is in [1, 2000]; with median 2, σ = 3 many draws round to 0 and must be clamped up to 1.
TEST_CASE("Log-normal lengths are clamped to [1, max_tokens]", "[workload]") {
  const WorkloadSpec spec = PoissonSpec(1.0, LogNormal(1000, 2.0, 2000), LogNormal(2, 3.0, 50));
  WorkloadGenerator g(spec, 5);
  int at_max = 0, at_one = 0;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t x = g.NextInputTokens();
    REQUIRE(x >= 1);
    REQUIRE(x <= 2000);
    at_max += x == 2000;
    const int64_t y = g.NextOutputTokens();
    REQUIRE(y >= 1);
    REQUIRE(y <= 50);
    at_one += y == 1;
  }
  // 36.4% expected at the clamp; bound loosely at 30-43% (±6σ is ±0.9%; looser on purpose).
  CHECK(at_max > 0.30 * kDraws);
  CHECK(at_max < 0.43 * kDraws);
  CHECK(at_one > 0);
}

// Poisson arrivals: exponential gaps with mean 1/rate; over 100k draws within 2% of 1/rate
// (the brief's tolerance; the standard error is 1/sqrt(1e5) = 0.3%). All gaps positive.
TEST_CASE("Poisson inter-arrival gaps have mean 1/rate", "[workload]") {
  for (double rate : {0.5, 20.0, 3000.0}) {
    INFO("rate " << rate);
    const WorkloadSpec spec = PoissonSpec(rate, Uniform(1, 1), Uniform(1, 1));
    WorkloadGenerator g(spec, 99);
    double sum = 0;
    for (int i = 0; i < kDraws; ++i) {
      const double gap = g.NextInterarrivalSeconds();
      REQUIRE(gap >= 0);
      sum += gap;
    }
    CHECK(sum / kDraws == Approx(1.0 / rate).epsilon(0.02));
  }
}

// Fixed lengths always return `tokens`; Mean() and Max() are `tokens` (exact).
TEST_CASE("Fixed lengths", "[workload]") {
  LengthDistribution d;
  d.kind = LengthDistribution::Kind::kFixed;
  d.tokens = 1024;
  const WorkloadSpec spec = PoissonSpec(1.0, d, d);
  WorkloadGenerator g(spec, 1);
  for (int i = 0; i < 100; ++i) CHECK(g.NextInputTokens() == 1024);
  CHECK(d.Mean() == 1024.0);
  CHECK(d.Max() == 1024);
}

// Prefix groups are uniform over [0, G) (each within 5 % of 1/G over 100k draws), and one
// group draws nothing from the stream (single-prefix workloads keep their lengths).
TEST_CASE("Prefix groups are uniform, and one group draws nothing", "[workload]") {
  WorkloadSpec spec = PoissonSpec(1.0, Uniform(1, 4000), Uniform(1, 1));
  spec.shared_prefix_tokens = 100;
  WorkloadGenerator plain(spec, 5), one(spec, 5);
  for (int i = 0; i < 100; ++i) {
    CHECK(one.NextPrefixGroup() == 0);
    CHECK(one.NextInputTokens() == plain.NextInputTokens());
  }
  spec.shared_prefix_groups = 10;
  WorkloadGenerator g(spec, 5);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < kDraws; ++i) {
    const int64_t group = g.NextPrefixGroup();
    REQUIRE(group >= 0);
    REQUIRE(group < 10);
    ++counts[group];
  }
  for (int c : counts) CHECK(c == Approx(kDraws / 10.0).epsilon(0.05));
  nlohmann::json j = WorkloadSpecToJson(spec);
  CHECK(j["shared_prefix_groups"] == 10);
}

// ParseWorkloadSpec reads the documented keys and round-trips through WorkloadSpecToJson; it
// rejects max < min, unknown keys and an unknown arrival kind with file + path in the message.
TEST_CASE("ParseWorkloadSpec parses, round-trips and rejects bad input", "[workload]") {
  const json j = json::parse(R"({
      "arrival": "closed_loop", "concurrency": 64,
      "input_tokens": {"kind": "uniform", "min_tokens": 100, "max_tokens": 900},
      "output_tokens": {"kind": "lognormal", "median_tokens": 300, "sigma": 0.8,
                        "max_tokens": 4096}})");
  auto spec = ParseWorkloadSpec(j, {"w.json", "$.workload"});
  REQUIRE(spec.ok());
  CHECK(spec->arrival == WorkloadSpec::Arrival::kClosedLoop);
  CHECK(spec->concurrency == 64);
  CHECK(spec->input_tokens.kind == LengthDistribution::Kind::kUniform);
  CHECK(spec->output_tokens.median_tokens == 300);
  CHECK(WorkloadSpecToJson(*spec) == j);

  json bad = j;
  bad["input_tokens"]["max_tokens"] = 50;
  auto r1 = ParseWorkloadSpec(bad, {"w.json", "$.workload"});
  REQUIRE_FALSE(r1.ok());
  CHECK_THAT(std::string(r1.status().message()),
             Catch::Contains("w.json: $.workload.input_tokens.max_tokens"));

  bad = j;
  bad["output_tokens"]["median"] = 3;
  auto r2 = ParseWorkloadSpec(bad, {"w.json", "$.workload"});
  REQUIRE_FALSE(r2.ok());
  CHECK_THAT(std::string(r2.status().message()), Catch::Contains("unknown key"));

  bad = j;
  bad["arrival"] = "burst";
  auto r3 = ParseWorkloadSpec(bad, {"w.json", "$.workload"});
  REQUIRE_FALSE(r3.ok());
  CHECK_THAT(std::string(r3.status().message()), Catch::Contains("$.workload.arrival"));

  bad = json::parse(R"({"arrival": "poisson", "rate_per_s": 0,
      "input_tokens": {"kind": "fixed", "tokens": 1},
      "output_tokens": {"kind": "fixed", "tokens": 1}})");
  auto r4 = ParseWorkloadSpec(bad, {"w.json", "$"});
  REQUIRE_FALSE(r4.ok());
  CHECK_THAT(std::string(r4.status().message()), Catch::Contains("$.rate_per_s"));
}

}  // namespace
}  // namespace moesim
