// Request streams: how requests arrive and how long their prompts and outputs are.
//
// Arrival processes: closed loop with `concurrency` clients (each sends its next request as soon
// as the previous one finishes, as in the seed 000 sweep), or open-loop Poisson arrivals at
// `rate_per_s`. Lengths are fixed, uniform or log-normal (clamped to [1, max_tokens]).
//
// Shared prefixes (for prefix caching, models/prefix_cache.h): "shared_prefix_tokens" S puts the
// same S tokens (a system prompt) before every prompt ("shared_prefix_groups" G > 1: one of G
// different S-token prefixes, drawn uniformly per request or per session, as inference-perf's
// shared_prefix workload and many agents sharing a few long documents), and "sessions" {"turns": T}
// makes each closed-loop client hold multi-turn chats: turn 1's prompt is S + input tokens, turn
// t's is turn t-1's prompt and output plus new input tokens (the context grows turn by turn), and
// after T turns the client starts a new session. input_tokens is then what each turn adds.
// "think_time_s" (closed loop) is the pause of a client between a reply and its next request
// (a user reading and typing); meanwhile its session's KV waits in the prefix cache.
//
// Sampling is deterministic for a given seed: the generator owns a std::mt19937_64 and uses
// Abseil's portable distributions.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

struct LengthDistribution {
  enum class Kind { kFixed, kUniform, kLogNormal, kHistogram };
  Kind kind = Kind::kFixed;
  int64_t tokens = 0;        // kFixed
  int64_t min_tokens = 0;    // kUniform (inclusive)
  int64_t max_tokens = 0;    // kUniform (inclusive) and kLogNormal (clamp)
  double median_tokens = 0;  // kLogNormal: exp(mu)
  double sigma = 0;          // kLogNormal: sigma of ln(length)
  // kHistogram: (tokens, weight) bins; a draw picks a bin with probability weight / Σ weights.
  std::vector<std::pair<int64_t, double>> bins;

  double Mean() const;  // expected value of what SampleLength draws (log-normal: clamped at max)
  int64_t Max() const;  // largest value the distribution can produce
};

struct WorkloadSpec {
  enum class Arrival { kClosedLoop, kPoisson };
  Arrival arrival = Arrival::kClosedLoop;
  int64_t concurrency = 0;  // kClosedLoop
  double rate_per_s = 0;    // kPoisson
  LengthDistribution input_tokens;
  LengthDistribution output_tokens;
  int64_t shared_prefix_tokens = 0;  // S: tokens every prompt starts with
  int64_t shared_prefix_groups = 1;  // G: distinct S-token prefixes
  int64_t session_turns = 0;         // T: turns per session (0: no sessions)
  double think_time_s = 0;           // closed loop: a client's pause between its requests

  // The longest prompt + output a request can have (all turns of a session).
  int64_t LongestSequenceTokens() const;
};

// A length distribution object: {"kind": "fixed", "tokens"}, {"kind": "uniform", "min_tokens",
// "max_tokens"}, {"kind": "lognormal", "median_tokens", "sigma", "max_tokens"} or
// {"kind": "histogram", "bins": [[tokens, weight], ...]} (an empirical histogram).
absl::StatusOr<LengthDistribution> ParseLengthDistribution(const nlohmann::json& value,
                                                           const JsonLocation& where);
nlohmann::json LengthDistributionToJson(const LengthDistribution& d);
// Draws one length from `d` with `rng`.
int64_t SampleLength(const LengthDistribution& d, std::mt19937_64& rng);

absl::StatusOr<WorkloadSpec> ParseWorkloadSpec(const nlohmann::json& value,
                                               const JsonLocation& where);
nlohmann::json WorkloadSpecToJson(const WorkloadSpec& spec);

// Draws request lengths and inter-arrival gaps.
class WorkloadGenerator {
 public:
  WorkloadGenerator(const WorkloadSpec& spec, uint64_t seed) : spec_(spec), rng_(seed) {}
  int64_t NextInputTokens() { return Sample(spec_.input_tokens); }
  int64_t NextOutputTokens() { return Sample(spec_.output_tokens); }
  // The shared prefix of the next request or session: uniform over the G groups (0 without
  // drawing when G is 1, so single-prefix streams are unchanged).
  int64_t NextPrefixGroup();
  double NextInterarrivalSeconds();  // Poisson only

 private:
  int64_t Sample(const LengthDistribution& d);
  WorkloadSpec spec_;  // a copy
  std::mt19937_64 rng_;
};

}  // namespace moesim
