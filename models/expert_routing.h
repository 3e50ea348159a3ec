// Per-step expert routing: how many tokens each routed expert of a MoE layer receives.
//
// A RoutingSpec describes how popular each expert is; an ExpertRouter turns it into samples.
// Each token picks exactly `top_k` DISTINCT experts (as a real top-k router does).
//
// Popularity kinds (RoutingSpec::Kind):
//   uniform  every expert equally popular.
//   zipf     the expert of popularity rank r (1-based) has weight r^-exponent; the ranking is a
//            random permutation of the experts drawn per MoE layer (from the router's seed), so
//            the hot experts differ from layer to layer. exponent 0 is uniform.
//   hot_set  `hot_experts` experts (a random set per layer) receive `hot_share` of all expert
//            assignments, the others share the rest evenly.
//   table    explicit non-negative per-expert weights: one row per MoE layer, or a single row
//            used for every layer (e.g. measured per-expert token counts).
//
// Semantics of a weight: it is the expert's expected SHARE OF ASSIGNMENTS. With weights w
// (normalised to sum 1), expert e is picked by a token with probability pi_e = top_k * w_e, so
// over M tokens it expects M * top_k * w_e tokens. A token cannot pick an expert twice, so
// pi_e <= 1: where top_k * w_e > 1 (a very hot zipf/table expert) pi_e is capped at 1 and the
// excess is spread over the other experts in proportion to their weights ("water-filling").
// hot_set never caps: top_k * hot_share > hot_experts is an error.
//
// Group-limited routing (DeepSeek-V3 style, from the model's MoeSpec): the experts form n_group
// equal groups of consecutive expert ids; each token first picks topk_group distinct groups, then
// its top_k experts among the experts of the picked groups, so each token's experts lie in
// <= topk_group groups. Group g is picked with probability rho_g proportional to its popularity
// (mass_g, the sum of its experts' pi), water-filled so that rho_g <= 1 (a group too popular for
// that is picked by every token). Within the picked groups expert e is picked with probability
// q_e = pi_e / rho_g; this choice makes every possible set of picked groups expect exactly top_k
// picks, and keeps the per-expert probability rho_g * q_e = pi_e. Only when one expert would need
// q_e > 1 (it is more popular than its group can be picked) is q water-filled within its group,
// moving that excess to its group-mates. Set "group_limited": false to ignore the model's groups.
//
// ExpectedShares() returns the realised expected shares rho_g * q_e / top_k (= pi_e / top_k except
// in the last case above): the sampler is exact, E[count_e] = tokens * top_k * share_e.
//
// Sampling algorithm, per token (exact inclusion probabilities, distinct picks):
//   1. Groups (group-limited only): systematic sampling over a random order of the n_group
//      groups with probabilities rho (O(n_group)).
//   2. Heavy experts of the picked groups (q > 0.2; none for uniform routing): systematic
//      sampling over a random order, with a dummy entry that makes the heavy probabilities sum
//      to a whole number (O(heavy experts)).
//   3. The remaining picks among the light experts: Sampford's rejective method. The first pick
//      is drawn in proportion to q, the others with replacement in proportion to q / (1 - q)
//      (rescaled when step 2 took a variable number), each draw O(1) from a Walker alias table;
//      a token whose picks are not all distinct is redrawn (rejected at the first duplicate).
//      Uniform routing over E = 256 with k = 8 is accepted with probability
//      prod_{j<k} (1 - j/E) ≈ 0.9, i.e. about k + 1 draws per token. After 16 rejected attempts a
//      token falls back to systematic sampling of the light experts (O(experts)).
//   Alias tables are built per layer and per set of picked groups (DeepSeek-V3: 70 sets), on
//   first use. Cost: O(k) expected per token for uniform routing, O(k + heavy + n_group) in
//   general. Measured on one core of the development machine, 256 experts, top-8, 8192 tokens
//   per call: 0.45 ms uniform, 0.8 ms hot_set, 1.1-1.6 ms Zipf; with DeepSeek-V3 groups (8, top
//   4) 1.1 ms uniform, 2.0-2.9 ms skewed.
//
// Determinism: every MoE layer owns a std::mt19937_64 seeded from (seed, layer) and the zipf /
// hot_set permutation of a layer is drawn from (seed, layer) too, so a layer's samples depend only
// on the seed and on the calls made for that layer, never on the order in which layers are
// sampled. Draws use 32-bit halves of the generator's output (portable: mt19937_64 is fully
// specified, and no std:: distribution is involved).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/json_reader.h"
#include "models/model_spec.h"

namespace moesim {

struct RoutingSpec {
  enum class Kind { kUniform, kZipf, kHotSet, kTable };
  Kind kind = Kind::kUniform;
  double exponent = 0;   // kZipf: >= 0
  int hot_experts = 0;   // kHotSet: >= 1 (and < the model's routed experts)
  double hot_share = 0;  // kHotSet: in (0, 1]
  // kTable: weights[layer][expert] >= 0, one row per MoE layer or a single row for all layers;
  // every row has the model's routed_experts entries and a positive sum.
  std::vector<std::vector<double>> weights;
  // Apply the model's n_group / topk_group limit (no effect when the model has n_group 1).
  bool group_limited = true;
  // How the simulation samples a step's per-expert counts (ExpertRouter::SampleCounts vs
  // Sample): "per_expert" (default, O(experts) per layer) or "per_token" (exact, O(tokens)).
  enum class Sampler { kPerExpert, kPerToken };
  Sampler sampler = Sampler::kPerExpert;
};

// JSON: {"kind": "uniform"}, {"kind": "zipf", "exponent": 1.2},
// {"kind": "hot_set", "hot_experts": 8, "hot_share": 0.5},
// {"kind": "table", "weights": [[w_0, ..., w_{E-1}], ...]}; every kind also accepts the optional
// "group_limited" (default true). Sizes that depend on the model are checked by the router.
absl::StatusOr<RoutingSpec> ParseRoutingSpec(const nlohmann::json& value,
                                             const JsonLocation& where);
nlohmann::json RoutingSpecToJson(const RoutingSpec& spec);

class ExpertRouter {
 public:
  // `moe_layers`: number of MoE layers (ModelSpec::MoeLayerCount()); layers are 0-based MoE
  // layer indices. Nothing is checked here: see Validate().
  ExpertRouter(const RoutingSpec& spec, const MoeSpec& moe, int moe_layers, uint64_t seed);
  ~ExpertRouter();
  ExpertRouter(ExpertRouter&&) noexcept;
  ExpertRouter& operator=(ExpertRouter&&) noexcept;

  // Checks the spec against the model (expert count, top_k, groups, table sizes, hot_set
  // feasibility). Sample() and the other calls return the same errors.
  absl::Status Validate() const;

  // Routes `tokens` tokens through MoE layer `layer`: counts_per_expert is resized to the number
  // of routed experts and receives, per expert, the number of tokens that picked it. The counts
  // sum to tokens * top_k and none exceeds tokens.
  absl::Status Sample(int layer, int64_t tokens, std::vector<int64_t>* counts_per_expert);

  // Fast approximation of Sample() (an analytic shortcut, measured against it in
  // tests/models/expert_routing_test.cc): draws every expert's count directly instead of routing
  // each token. Group-limited: the number of tokens that pick group g is Binomial(tokens, rho_g);
  // then expert e of group g receives Binomial(N_g, q_e) tokens (otherwise Binomial(tokens,
  // pi_e)). Each count has exactly the exact sampler's distribution when groups are not limited
  // and its exact mean always; counts are drawn independently, so they sum to tokens * top_k
  // only on average (the exact sampler's small negative correlation between experts is lost).
  // Binomials: inversion below a mean of 20, normal approximation with continuity correction
  // above. Cost O(experts + groups) per call, independent of `tokens`. When tokens × top_k <=
  // experts the call routes every token exactly (Sample(), no more costly there), so small
  // batches keep exact counts (sum tokens × top_k, none above tokens).

  absl::Status SampleCounts(int layer, int64_t tokens, std::vector<int64_t>* counts_per_expert);

  // Same draws as Sample() (same random stream), but returns every token's experts:
  // experts_per_token is resized to tokens * top_k; token t's distinct experts are entries
  // [t * top_k, (t + 1) * top_k) in the order drawn. For tests, debugging and per-token traffic.
  absl::Status SampleTokens(int layer, int64_t tokens, std::vector<int32_t>* experts_per_token);

  // Each expert's expected share of the layer's assignments (sums to 1; rho_g * q_e / top_k, see
  // the file comment). E[counts_per_expert[e]] = tokens * top_k * share_e exactly.
  absl::StatusOr<std::vector<double>> ExpectedShares(int layer);

  int experts() const { return moe_.routed_experts; }
  int top_k() const { return moe_.top_k; }
  int moe_layers() const { return moe_layers_; }
  // True when tokens are limited to topk_group of n_group groups (spec and model both ask).
  bool group_limited() const;
  int GroupOf(int expert) const;  // group index of an expert (0 when not group-limited)

 private:
  struct Layer;
  absl::StatusOr<Layer*> GetLayer(int layer);

  RoutingSpec spec_;
  MoeSpec moe_;
  int moe_layers_;
  uint64_t seed_;
  std::vector<std::unique_ptr<Layer>> layers_;  // built on first use
};

}  // namespace moesim
