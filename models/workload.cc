#include "models/workload.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

double LengthDistribution::Mean() const {
  switch (kind) {
    case Kind::kFixed:
      return double(tokens);
    case Kind::kUniform:
      return 0.5 * double(min_tokens + max_tokens);
    case Kind::kLogNormal: {
      // E[min(X, M)] for X log-normal with median m and shape s, as SampleLength clamps:
      //   m e^{s²/2} Φ((ln(M/m) − s²)/s) + M (1 − Φ(ln(M/m)/s)).
      // (The clamp at 1 from below moves the mean by under a token and is left out.)
      const double cap = double(max_tokens);
      if (sigma <= 0) return std::min(median_tokens, cap);
      const auto phi = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
      const double z = std::log(cap / median_tokens) / sigma;
      return median_tokens * std::exp(0.5 * sigma * sigma) * phi(z - sigma) + cap * (1.0 - phi(z));
    }
    case Kind::kHistogram: {
      double sum = 0, weight = 0;
      for (const auto& [t, w] : bins) {
        sum += double(t) * w;
        weight += w;
      }
      return weight > 0 ? sum / weight : 0;
    }
  }
  return 0;
}

int64_t LengthDistribution::Max() const {
  if (kind == Kind::kHistogram) {
    int64_t m = 0;
    for (const auto& [t, w] : bins) m = std::max(m, t);
    return m;
  }
  return kind == Kind::kFixed ? tokens : max_tokens;
}

namespace {

absl::StatusOr<LengthDistribution> ParseLength(JsonObjectReader r) {
  LengthDistribution d;
  const NumberRule count = NumberRule::Between(1, 1e7);  // tokens per request
  MOESIM_ASSIGN_OR_RETURN(std::string kind,
                          r.Enum("kind", {"fixed", "uniform", "lognormal", "histogram"}));
  if (kind == "fixed") {
    d.kind = LengthDistribution::Kind::kFixed;
    MOESIM_ASSIGN_OR_RETURN(d.tokens, r.Integer("tokens", count));
  } else if (kind == "uniform") {
    d.kind = LengthDistribution::Kind::kUniform;
    MOESIM_ASSIGN_OR_RETURN(d.min_tokens, r.Integer("min_tokens", count));
    MOESIM_ASSIGN_OR_RETURN(d.max_tokens, r.Integer("max_tokens", count));
    if (d.max_tokens < d.min_tokens) {
      return BadValue(r.where().Key("max_tokens"), d.max_tokens,
                      absl::StrCat("an integer >= min_tokens (", d.min_tokens, ")"));
    }
  } else if (kind == "histogram") {
    d.kind = LengthDistribution::Kind::kHistogram;
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* bins, r.Array("bins"));
    double total = 0;
    for (size_t i = 0; i < bins->size(); ++i) {
      const nlohmann::json& b = (*bins)[i];
      const JsonLocation at = r.where().Key("bins").Index(i);
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number() ||
          !count.Accepts(b[0].get<double>()) || b[1].get<double>() < 0) {
        return BadValue(at, b,
                        "a [tokens, weight] pair: tokens an integer in [1, 1e7], weight >= 0");
      }
      d.bins.emplace_back(b[0].get<int64_t>(), b[1].get<double>());
      total += b[1].get<double>();
    }
    if (d.bins.empty() || total <= 0) {
      return BadValue(r.where().Key("bins"), *bins, "at least one bin with a weight > 0");
    }
  } else {
    d.kind = LengthDistribution::Kind::kLogNormal;
    MOESIM_ASSIGN_OR_RETURN(d.median_tokens, r.Number("median_tokens", count));
    MOESIM_ASSIGN_OR_RETURN(d.sigma, r.Number("sigma", NumberRule::Between(0, 5)));
    MOESIM_ASSIGN_OR_RETURN(d.max_tokens, r.Integer("max_tokens", count));
    if (double(d.max_tokens) < d.median_tokens) {
      return BadValue(r.where().Key("max_tokens"), d.max_tokens,
                      absl::StrCat("an integer >= median_tokens (", d.median_tokens,
                                   "): above it every other sample would be cut to max_tokens"));
    }
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return d;
}

}  // namespace

nlohmann::json LengthDistributionToJson(const LengthDistribution& d) {
  switch (d.kind) {
    case LengthDistribution::Kind::kFixed:
      return {{"kind", "fixed"}, {"tokens", d.tokens}};
    case LengthDistribution::Kind::kUniform:
      return {{"kind", "uniform"}, {"min_tokens", d.min_tokens}, {"max_tokens", d.max_tokens}};
    case LengthDistribution::Kind::kLogNormal:
      return {{"kind", "lognormal"},
              {"median_tokens", d.median_tokens},
              {"sigma", d.sigma},
              {"max_tokens", d.max_tokens}};
    case LengthDistribution::Kind::kHistogram: {
      nlohmann::json bins = nlohmann::json::array();
      for (const auto& [t, w] : d.bins) bins.push_back({t, w});
      return {{"kind", "histogram"}, {"bins", bins}};
    }
  }
  return nullptr;
}

absl::StatusOr<LengthDistribution> ParseLengthDistribution(const nlohmann::json& value,
                                                           const JsonLocation& where) {
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  return ParseLength(std::move(r));
}

absl::StatusOr<WorkloadSpec> ParseWorkloadSpec(const nlohmann::json& value,
                                               const JsonLocation& where) {
  WorkloadSpec s;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(std::string arrival, r.Enum("arrival", {"closed_loop", "poisson"}));
  if (arrival == "closed_loop") {
    s.arrival = WorkloadSpec::Arrival::kClosedLoop;
    MOESIM_ASSIGN_OR_RETURN(s.concurrency, r.Integer("concurrency", NumberRule::Between(1, 1e6)));
  } else {
    s.arrival = WorkloadSpec::Arrival::kPoisson;
    MOESIM_ASSIGN_OR_RETURN(s.rate_per_s, r.Number("rate_per_s", NumberRule::PositiveAtMost(1e6)));
  }
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader in, r.Object("input_tokens"));
  MOESIM_ASSIGN_OR_RETURN(s.input_tokens, ParseLength(in));
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader out, r.Object("output_tokens"));
  MOESIM_ASSIGN_OR_RETURN(s.output_tokens, ParseLength(out));
  MOESIM_ASSIGN_OR_RETURN(s.shared_prefix_tokens,
                          r.IntegerOr("shared_prefix_tokens", 0, NumberRule::Between(0, 1e7)));
  if (r.Has("shared_prefix_groups")) {
    MOESIM_ASSIGN_OR_RETURN(s.shared_prefix_groups,
                            r.Integer("shared_prefix_groups", NumberRule::Between(1, 1e7)));
    if (s.shared_prefix_tokens <= 0) {
      return BadInput(where.Key("shared_prefix_groups"),
                      "groups of shared prefixes need \"shared_prefix_tokens\" > 0 (each "
                      "group's prefix length)");
    }
  }
  if (r.Has("think_time_s")) {
    if (s.arrival != WorkloadSpec::Arrival::kClosedLoop) {
      return BadInput(where.Key("think_time_s"),
                      "a pause between a client's requests needs \"arrival\": \"closed_loop\"");
    }
    MOESIM_ASSIGN_OR_RETURN(s.think_time_s,
                            r.Number("think_time_s", NumberRule::Between(0, 86400)));
  }
  if (r.Has("sessions")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader sessions, r.Object("sessions"));
    MOESIM_ASSIGN_OR_RETURN(s.session_turns,
                            sessions.Integer("turns", NumberRule::Between(1, 10000)));
    MOESIM_RETURN_IF_ERROR(sessions.Finish());
    if (s.arrival != WorkloadSpec::Arrival::kClosedLoop) {
      return BadInput(where.Key("sessions"),
                      "multi-turn sessions need \"arrival\": \"closed_loop\" (each client "
                      "sends a session's next turn when the previous one finishes)");
    }
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  if (s.LongestSequenceTokens() > 100'000'000) {
    return BadInput(where, absl::StrCat("a session can reach ", s.LongestSequenceTokens(),
                                        " tokens; at most 100,000,000 are simulated"));
  }
  return s;
}

int64_t WorkloadSpec::LongestSequenceTokens() const {
  const int64_t turns = std::max<int64_t>(1, session_turns);
  return shared_prefix_tokens + turns * (input_tokens.Max() + output_tokens.Max());
}

nlohmann::json WorkloadSpecToJson(const WorkloadSpec& s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.arrival == WorkloadSpec::Arrival::kClosedLoop) {
    j["arrival"] = "closed_loop";
    j["concurrency"] = s.concurrency;
  } else {
    j["arrival"] = "poisson";
    j["rate_per_s"] = s.rate_per_s;
  }
  j["input_tokens"] = LengthDistributionToJson(s.input_tokens);
  j["output_tokens"] = LengthDistributionToJson(s.output_tokens);
  if (s.shared_prefix_tokens > 0) j["shared_prefix_tokens"] = s.shared_prefix_tokens;
  if (s.shared_prefix_groups > 1) j["shared_prefix_groups"] = s.shared_prefix_groups;
  if (s.session_turns > 0) j["sessions"] = {{"turns", s.session_turns}};
  if (s.think_time_s > 0) j["think_time_s"] = s.think_time_s;
  return j;
}

int64_t WorkloadGenerator::NextPrefixGroup() {
  if (spec_.shared_prefix_groups <= 1) return 0;
  return absl::Uniform<int64_t>(rng_, 0, spec_.shared_prefix_groups);
}

double WorkloadGenerator::NextInterarrivalSeconds() {
  return absl::Exponential<double>(rng_, spec_.rate_per_s);
}

int64_t WorkloadGenerator::Sample(const LengthDistribution& d) { return SampleLength(d, rng_); }

int64_t SampleLength(const LengthDistribution& d, std::mt19937_64& rng) {
  switch (d.kind) {
    case LengthDistribution::Kind::kFixed:
      return d.tokens;
    case LengthDistribution::Kind::kUniform:
      return absl::Uniform<int64_t>(absl::IntervalClosed, rng, d.min_tokens, d.max_tokens);
    case LengthDistribution::Kind::kLogNormal: {
      const double x = d.median_tokens * std::exp(d.sigma * absl::Gaussian<double>(rng));
      // Clamp in double first: llround of a value beyond int64 is undefined.
      return std::llround(std::clamp(x, 1.0, double(d.max_tokens)));
    }
    case LengthDistribution::Kind::kHistogram: {
      double total = 0;
      for (const auto& [t, w] : d.bins) total += w;
      double u = absl::Uniform<double>(rng, 0.0, total);
      for (const auto& [t, w] : d.bins) {
        if (u < w) return t;
        u -= w;
      }
      return d.bins.back().first;
    }
  }
  return 1;
}

}  // namespace moesim
