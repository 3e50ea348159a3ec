// Tests for models/routing.h: the expected number of distinct experts under uniform top-k routing.
#include "models/routing.h"

#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "../support/moe_spec_fixture.h"

namespace moesim {
namespace {

// Seed 003 (ScatterMoE benchmark, "balanced — M sweep" notes): "E[active] ≈ E·(1 − (1 −
// top_k/E)^M). With E=256 / top_k=8 this yields ≥ 215 unique experts even at M=256 and saturates at
// 256 by M ≈ 16K." The seed's measured table also lists 251/256 at M=1024 and 255/256 at M=4096
// (its router adds noise and a per-expert bias, so its measured counts sit below the
// uniform-routing mean, which is already ≈ 255.9 at M=256; the seed's bounds still hold).
// Tolerances: ≥ 215 (the seed's own bound); saturation within 1e-6 of 256 (the formula's
// remainder at M=16384 is 256·(31/32)^16384 ≈ 1e-224).
TEST_CASE("ExpectedDistinctExperts matches seed 003's E=256, k=8 examples", "[routing]") {
  CHECK(ExpectedDistinctExperts(256, 8, 256) >= 215.0);
  CHECK(ExpectedDistinctExperts(256, 8, 1024) >= 251.0);
  CHECK(ExpectedDistinctExperts(256, 8, 4096) >= 255.0);
  CHECK(ExpectedDistinctExperts(256, 8, 16384) == Approx(256.0).margin(1e-6));
  // Never above E (the formula's upper bound).
  CHECK(ExpectedDistinctExperts(256, 8, 1e6) <= 256.0);
}

// Edge cases from models/routing.h: "Returns 0 for tokens <= 0"; one token touches exactly top_k
// experts (E·(1−(1−k/E)) = k); exact up to one rounding (margin 1e-9).
TEST_CASE("ExpectedDistinctExperts edge cases", "[routing]") {
  CHECK(ExpectedDistinctExperts(256, 8, 0) == 0.0);
  CHECK(ExpectedDistinctExperts(256, 8, -3) == 0.0);
  CHECK(ExpectedDistinctExperts(256, 8, 1) == Approx(8.0).margin(1e-9));
  CHECK(ExpectedDistinctExperts(8, 8, 1) == Approx(8.0).margin(1e-9));
  // Monotone non-decreasing in tokens.
  double prev = 0;
  for (int m = 1; m <= 4096; m *= 2) {
    const double d = ExpectedDistinctExperts(128, 8, m);
    CHECK(d >= prev);
    prev = d;
  }
}

// Average number of distinct experts touched when each of `tokens` tokens picks `top_k` distinct
// experts uniformly at random (partial Fisher-Yates), over `trials` trials.
double SampledDistinctExperts(int experts, int top_k, int tokens, int trials, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> ids(experts);
  std::vector<char> touched(experts);
  double sum = 0;
  for (int t = 0; t < trials; ++t) {
    std::fill(touched.begin(), touched.end(), 0);
    for (int m = 0; m < tokens; ++m) {
      std::iota(ids.begin(), ids.end(), 0);
      for (int j = 0; j < top_k; ++j) {
        std::uniform_int_distribution<int> pick(j, experts - 1);
        std::swap(ids[j], ids[pick(rng)]);
        touched[ids[j]] = 1;
      }
    }
    sum += std::accumulate(touched.begin(), touched.end(), 0);
  }
  return sum / trials;
}

// Monte-Carlo check of the analytic mean. With distinct top-k per token, an expert is missed by
// one token with probability exactly 1 − k/E, so the formula is the exact mean and only sampling
// noise separates the two. Tolerance 1% relative (the brief's bound).
// Trials: 20,000 rather than 200. With 200 trials the standard error at (E,k,M)=(8,2,3) is
// sqrt(Var/200) with Var ≈ 0.59 (from the pairwise-miss covariance) = 0.054 ≈ 1.2% of the mean
// 4.625, i.e. larger than the tolerance; 20,000 trials bring it to ≈ 0.12% (≥ 8σ margin).
TEST_CASE("ExpectedDistinctExperts agrees with a Monte-Carlo sampler", "[routing]") {
  struct Case {
    int experts, top_k, tokens;
  };
  const Case cases[] = {{256, 8, 1},  {256, 8, 16},  {256, 8, 64},
                        {128, 8, 32}, {128, 8, 256}, {8, 2, 3}};
  uint64_t seed = 20240601;
  for (const Case& c : cases) {
    INFO("E=" << c.experts << " k=" << c.top_k << " M=" << c.tokens);
    const double analytic = ExpectedDistinctExperts(c.experts, c.top_k, c.tokens);
    const double sampled = SampledDistinctExperts(c.experts, c.top_k, c.tokens, 20000, seed++);
    CHECK(sampled == Approx(analytic).epsilon(0.01));
  }
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

using testing::MoeOf;

// models/routing.h's contract: one GPU takes every pair; no tokens, no pairs; the busiest GPU
// carries at least the mean and at most every pair; more tokens never lighten it. Exact
// identities up to rounding (margin 1e-9).
TEST_CASE("ExpectedBusiestGpuPairs: bounds and edge cases", "[routing]") {
  for (const MoeSpec& moe : {MoeOf(256, 8, 8, 4), MoeOf(128, 8)}) {
    CHECK(ExpectedBusiestGpuPairs(moe, 1, 37) == Approx(37.0 * 8).margin(1e-9));
    CHECK(ExpectedBusiestGpuPairs(moe, 8, 0) == 0.0);
    double previous = 0;
    for (int tokens : {1, 2, 4, 16, 64, 256, 4096}) {
      for (int gpus : {2, 8, 16, 64}) {
        INFO("tokens " << tokens << ", gpus " << gpus);
        const double busiest = ExpectedBusiestGpuPairs(moe, gpus, tokens);
        CHECK(busiest >= tokens * 8.0 / gpus - 1e-9);
        CHECK(busiest <= tokens * 8.0 + 1e-9);
      }
      const double at8 = ExpectedBusiestGpuPairs(moe, 8, tokens);
      CHECK(at8 >= previous);
      previous = at8;
    }
    // One token on as many GPUs as experts: the busiest holds exactly one pair; taking the
    // GPUs as independent puts it at 1 − (1 − 1/16)^64 = 0.984, the assumption's known low bias.
    CHECK(ExpectedBusiestGpuPairs(MoeOf(64, 4), 64, 1) ==
          Approx(1.0 - std::pow(1.0 - 1.0 / 16, 64)).margin(1e-9));
  }
}

// Models the router would refuse (top_k above the experts, or above what the picked groups
// hold) still give a finite load within the bounds, never NaN (the analytic path runs without
// the router's validation).
TEST_CASE("ExpectedBusiestGpuPairs: degenerate models stay finite", "[routing]") {
  for (const MoeSpec& moe : {MoeOf(4, 8), MoeOf(16, 8, 8, 2), MoeOf(16, 4, 8, 0)}) {
    const double busiest = ExpectedBusiestGpuPairs(moe, 4, 3);
    CHECK(std::isfinite(busiest));
    CHECK(busiest >= 0.0);
    CHECK(busiest <= 3.0 * moe.top_k);
  }
}

// The exact convolution hands over to the normal approximation at a mean of 16 pairs per GPU
// (models/routing.cc): the two sides of the switch (means 16 and 17, E = 256, k = 8, 8 GPUs)
// stay within 3 % of each other beyond one token's worth of growth (the header's bound).
TEST_CASE("ExpectedBusiestGpuPairs: no jump where the normal approximation takes over",
          "[routing]") {
  const MoeSpec moe = MoeOf(256, 8, 8, 4);
  const double exact = ExpectedBusiestGpuPairs(moe, 8, 16);
  const double normal = ExpectedBusiestGpuPairs(moe, 8, 17);
  CHECK(normal / exact == Approx(17.0 / 16.0).epsilon(0.03));
}

// The normal approximation's constant, E[max of 2 standard normals] = 1/√π exactly: 1,000
// tokens of a 128-expert top-8 model on 2 GPUs put Hypergeometric(128, 64, 8) pairs per token
// on a GPU (variance 8·½·½·120/127), so the busiest expects 4000 + σ/√π. Tolerance: 0.5 % of
// the excess σ/√π (the quadrature's error is 0.12 % at most).
TEST_CASE("ExpectedBusiestGpuPairs: the normal approximation's known case", "[routing]") {
  const double sigma = std::sqrt(1000 * 8 * 0.25 * 120.0 / 127.0);
  const double busiest = ExpectedBusiestGpuPairs(MoeOf(128, 8), 2, 1000);
  CHECK(busiest - 4000 == Approx(sigma / std::sqrt(M_PI)).epsilon(0.005));
}

// ExpectedDistinctSlots: slots·(1−(1−1/slots)^pairs): one pair touches one slot; none, none;
// many pairs fill every slot (margin 1e-9).
TEST_CASE("ExpectedDistinctSlots", "[routing]") {
  CHECK(ExpectedDistinctSlots(32, 1) == Approx(1.0).margin(1e-9));
  CHECK(ExpectedDistinctSlots(32, 0) == 0.0);
  CHECK(ExpectedDistinctSlots(32, 1e6) == Approx(32.0).margin(1e-9));
  CHECK(ExpectedDistinctSlots(32, 8) < 8.0);
}

}  // namespace
}  // namespace moesim
