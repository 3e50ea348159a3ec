// Expert routing statistics.
//
// Analytic (expected-value) routing under uniform top-k selection: with E experts, top-k per
// token and M tokens, the expected number of distinct experts touched is E·(1−(1−k/E)^M)
// (seed 003). Labelled as the analytic mean: per-step sampling, skew and placement arrive with
// the expert-parallelism work.
#pragma once

namespace moesim {

// Expected number of distinct experts (out of `experts`) that `tokens` tokens choosing `top_k`
// experts each touch, under uniform routing. Returns 0 for tokens <= 0.
double ExpectedDistinctExperts(double experts, double top_k, double tokens);

}  // namespace moesim
