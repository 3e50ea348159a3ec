// Expert routing statistics.
//
// Analytic (expected-value) routing under uniform top-k selection, used when a scenario gives
// no "routing" section (engine/moe_load_sampler.h samples routing per step otherwise):
//  * the expected number of distinct experts that M tokens touch, E·(1−(1−k/E)^M) (seed 003);
//  * the expected load of the busiest GPU of an expert-parallel group. Its (token, expert)
//    pairs set the MoE layer's time (the combine or the all-reduce waits for it), and even
//    uniform routing spreads T·k pairs over G GPUs unevenly. GPU g holds the contiguous block of
//    experts [g·E/G, (g+1)·E/G), as SGLang, vLLM and TensorRT-LLM place them without EPLB, so
//    group-limited routing (DeepSeek-V3: a token's 8 experts in 4 of 8 groups) puts a token's
//    pairs on few GPUs. One token's pairs on one GPU follow an exact mixture of hypergeometric
//    laws; T tokens' pairs are their T-fold convolution; the busiest of G GPUs is the expected
//    maximum of G such counts taken as independent. Where the mean exceeds 16 pairs the normal
//    approximation replaces the convolution (they differ by under 3 % there, and the
//    convolution's cost grows with the mean). Against sampled
//    routing (tests/models/routing_test.cc) this is within 10 % low at one token and within
//    5 % from four tokens on.
#pragma once

#include "models/model_spec.h"

namespace moesim {

// Expected number of distinct experts (out of `experts`) that `tokens` tokens choosing `top_k`
// experts each touch, under uniform routing. Returns 0 for tokens <= 0.
double ExpectedDistinctExperts(double experts, double top_k, double tokens);

// Expected (token, expert) pairs of the busiest of `gpus` GPUs that hold `moe`'s routed experts
// in contiguous blocks, for `tokens` tokens under uniform (group-limited where `moe` says so)
// routing. tokens · top_k for one GPU; 0 for no tokens.
double ExpectedBusiestGpuPairs(const MoeSpec& moe, int gpus, double tokens);

// Expected distinct experts among `slots` expert slots of one GPU that receive `pairs` pairs,
// each on a slot chosen uniformly: slots·(1−(1−1/slots)^pairs).
double ExpectedDistinctSlots(double slots, double pairs);

}  // namespace moesim
