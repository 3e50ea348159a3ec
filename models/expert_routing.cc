#include "models/expert_routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

namespace {

// Experts picked with a probability above this are "heavy" (systematic sampling), the others
// "light" (Sampford's method). Must stay below 0.5 (see SampleTokens).
constexpr double kHeavy = 0.2;
// Per layer, sampling tables are kept for the group sets tokens pick up to this many experts in
// all (DeepSeek-V3: 70 sets of 128 experts); rarer sets are rebuilt per token.
constexpr size_t kMaxPooledExperts = size_t(1) << 17;
// Sampford attempts per token before the token falls back to systematic sampling.
constexpr int kSampfordAttempts = 16;

// --- Random draws: 32-bit halves of mt19937_64's output (portable, fast) ----------------------

class Random32 {
 public:
  void Seed(std::seed_seq& seq) {
    gen_.seed(seq);
    has_ = false;
  }
  uint32_t Next() {
    if (has_) {
      has_ = false;
      return uint32_t(buf_ >> 32);
    }
    buf_ = gen_();
    has_ = true;
    return uint32_t(buf_);
  }

 private:
  std::mt19937_64 gen_;
  uint64_t buf_ = 0;
  bool has_ = false;
};

// Uniform in [0, 1) with 32-bit resolution.
double UniformDouble(Random32& rng) { return double(rng.Next()) * 0x1.0p-32; }

// Uniform integer in [0, n) (multiply-shift; bias below n / 2^32).
uint32_t Bounded(Random32& rng, uint32_t n) { return uint32_t((uint64_t(rng.Next()) * n) >> 32); }

// Binomial(n, p) draw. Below a mean of kInversionMean: inversion (walks the pmf from 0,
// O(mean)); above it the normal approximation with continuity correction (variance >= 10 there,
// since p <= 1/2 after the symmetry step), clamped to [0, n]. Normal deviate by Box-Muller.
constexpr double kInversionMean = 20.0;

int64_t Binomial(Random32& rng, int64_t n, double p) {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - Binomial(rng, n, 1.0 - p);
  const double mean = double(n) * p;
  if (mean < kInversionMean) {
    const double ratio = p / (1.0 - p);
    double pmf = std::exp(double(n) * std::log1p(-p));
    double u = UniformDouble(rng);
    int64_t x = 0;
    while (u > pmf && x < n) {
      u -= pmf;
      pmf *= ratio * double(n - x) / double(x + 1);
      ++x;
    }
    return x;
  }
  const double u1 = (double(rng.Next()) + 1.0) * 0x1.0p-32;  // (0, 1]
  const double u2 = UniformDouble(rng);
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  const double x = std::floor(mean + std::sqrt(mean * (1.0 - p)) * z + 0.5);
  return std::clamp(int64_t(x), int64_t(0), n);
}

template <typename T>
void Shuffle(std::vector<T>* v, Random32& rng) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[Bounded(rng, uint32_t(i))]);
}

// Walker/Vose alias table over `items` with non-negative `weights` (positive sum): one 32-bit
// draw per sample: x = r * n, the high word picks the column and the low word (uniform over
// multiples of n / 2^32) is the coin.
class AliasTable {
 public:
  void Build(const std::vector<int32_t>& items, const std::vector<double>& weights) {
    const size_t n = items.size();
    item_ = items;
    alias_.assign(n, 0);
    threshold_.assign(n, uint64_t(1) << 32);
    const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
    std::vector<double> scaled(n);
    std::vector<size_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      scaled[i] = weights[i] * double(n) / sum;
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      const size_t s = small.back(), l = large.back();
      small.pop_back();
      threshold_[s] = uint64_t(std::llround(scaled[s] * 4294967296.0));
      alias_[s] = items[l];
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // Left-overs are 1 up to rounding: they keep their own item.
    for (size_t i = 0; i < n; ++i) {
      if (threshold_[i] == (uint64_t(1) << 32)) alias_[i] = items[i];
    }
  }
  int32_t Draw(Random32& rng) const {
    const uint64_t x = uint64_t(rng.Next()) * uint64_t(item_.size());
    const size_t col = size_t(x >> 32);
    return (x & 0xffffffffu) < threshold_[col] ? item_[col] : alias_[col];
  }
  bool empty() const { return item_.empty(); }

 private:
  std::vector<int32_t> item_;        // column -> its own item
  std::vector<int32_t> alias_;       // column -> the other item
  std::vector<uint64_t> threshold_;  // keep the own item when the coin < threshold (2^32 = 1)
};

// pi_i = min(1, c * w_i) with sum pi = target (c >= 0 found by capping the largest weights first).
// Zero weights stay 0. Requires at least `target` positive weights. Returns whether any weight
// was capped.
bool WaterFill(const std::vector<double>& w, double target, std::vector<double>* pi) {
  const size_t n = w.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
  std::vector<double> suffix(n + 1, 0.0);  // sum of the weights from sorted position i on
  for (size_t i = n; i-- > 0;) suffix[i] = suffix[i + 1] + w[order[i]];
  size_t capped = 0;
  double c = 0;
  while (true) {
    const double rest = target - double(capped);
    if (rest <= 0 || suffix[capped] <= 0) {
      c = 0;
      break;
    }
    c = rest / suffix[capped];
    if (capped < n && w[order[capped]] * c > 1.0) {
      ++capped;
      continue;
    }
    break;
  }
  pi->assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    (*pi)[order[i]] = i < capped ? 1.0 : std::min(1.0, w[order[i]] * c);
  }
  return capped > 0;
}

// Systematic sampling over a random order: picks n distinct entries of `items` where entry i is
// picked with probability p[i] exactly (p[i] <= 1, sum p = n). O(items). `order` and `picked` are
// scratch (`picked` flags the picks, to repair a count left short by rounding).
void SystematicSample(const std::vector<int32_t>& items, const std::vector<double>& p, int n,
                      Random32& rng, std::vector<uint32_t>* order, std::vector<char>* picked,
                      int32_t* out) {
  const uint32_t m = uint32_t(items.size());
  order->resize(m);
  std::iota(order->begin(), order->end(), 0u);
  Shuffle(order, rng);
  picked->assign(m, 0);
  double acc = 0, next = UniformDouble(rng);
  int got = 0;
  for (uint32_t j = 0; j < m && got < n; ++j) {
    const uint32_t i = (*order)[j];
    acc += p[i];
    if (acc > next) {
      out[got++] = items[i];
      (*picked)[i] = 1;
      next += 1.0;
    }
  }
  // Rounding can leave the last pick short: take the last unpicked positive entries.
  for (uint32_t j = m; j-- > 0 && got < n;) {
    const uint32_t i = (*order)[j];
    if (!(*picked)[i] && p[i] > 0) {
      out[got++] = items[i];
      (*picked)[i] = 1;
    }
  }
}

absl::Status RouterError(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("expert routing: ", message));
}

}  // namespace

// --- Spec parsing ------------------------------------------------------------------------------

absl::StatusOr<RoutingSpec> ParseRoutingSpec(const nlohmann::json& value,
                                             const JsonLocation& where) {
  RoutingSpec s;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(std::string kind,
                          r.Enum("kind", {"uniform", "zipf", "hot_set", "table"}));
  if (kind == "uniform") {
    s.kind = RoutingSpec::Kind::kUniform;
  } else if (kind == "zipf") {
    s.kind = RoutingSpec::Kind::kZipf;
    MOESIM_ASSIGN_OR_RETURN(s.exponent, r.Number("exponent", NumberRule::Between(0, 10)));
  } else if (kind == "hot_set") {
    s.kind = RoutingSpec::Kind::kHotSet;
    MOESIM_ASSIGN_OR_RETURN(const int64_t hot,
                            r.Integer("hot_experts", NumberRule::Between(1, 1e6)));
    s.hot_experts = int(hot);
    MOESIM_ASSIGN_OR_RETURN(s.hot_share, r.Number("hot_share", NumberRule::Fraction()));
  } else {
    s.kind = RoutingSpec::Kind::kTable;
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* rows, r.Array("weights"));
    const JsonLocation at = where.Key("weights");
    const std::string shape = "a non-empty array of per-layer arrays of per-expert weights";
    if (rows->empty()) return BadValue(at, *rows, shape);
    for (size_t i = 0; i < rows->size(); ++i) {
      const nlohmann::json& row = (*rows)[i];
      if (!row.is_array() || row.empty()) {
        return BadValue(at.Index(i), row, "a non-empty array of per-expert weights (numbers >= 0)");
      }
      if (i > 0 && row.size() != (*rows)[0].size()) {
        return BadValue(at.Index(i), row,
                        absl::StrCat("an array of ", (*rows)[0].size(),
                                     " weights (every row has one weight per expert)"));
      }
      std::vector<double> w;
      w.reserve(row.size());
      double sum = 0;
      for (size_t e = 0; e < row.size(); ++e) {
        const nlohmann::json& x = row[e];
        if (!x.is_number() || !NumberRule::NonNegative().Accepts(x.get<double>())) {
          return BadValue(at.Index(i).Index(e), x, NumberRule::NonNegative().Describe());
        }
        w.push_back(x.get<double>());
        sum += w.back();
      }
      if (!(sum > 0)) return BadValue(at.Index(i), row, "weights with a positive sum");
      s.weights.push_back(std::move(w));
    }
  }
  MOESIM_ASSIGN_OR_RETURN(s.group_limited, r.BoolOr("group_limited", true));
  MOESIM_ASSIGN_OR_RETURN(const std::string sampler,
                          r.EnumOr("sampler", "per_expert", {"per_expert", "per_token"}));
  s.sampler =
      sampler == "per_token" ? RoutingSpec::Sampler::kPerToken : RoutingSpec::Sampler::kPerExpert;
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return s;
}

nlohmann::json RoutingSpecToJson(const RoutingSpec& s) {
  nlohmann::json j = nlohmann::json::object();
  switch (s.kind) {
    case RoutingSpec::Kind::kUniform:
      j["kind"] = "uniform";
      break;
    case RoutingSpec::Kind::kZipf:
      j["kind"] = "zipf";
      j["exponent"] = s.exponent;
      break;
    case RoutingSpec::Kind::kHotSet:
      j["kind"] = "hot_set";
      j["hot_experts"] = s.hot_experts;
      j["hot_share"] = s.hot_share;
      break;
    case RoutingSpec::Kind::kTable:
      j["kind"] = "table";
      j["weights"] = s.weights;
      break;
  }
  if (!s.group_limited) j["group_limited"] = false;
  if (s.sampler == RoutingSpec::Sampler::kPerToken) j["sampler"] = "per_token";
  return j;
}

// --- Router ----------------------------------------------------------------------------------

struct ExpertRouter::Layer {
  // The experts a token may pick once its groups are known (all eligible groups when routing is
  // not group-limited), split into heavy (q > kHeavy) and light ones, with sampling tables.
  struct Pool {
    std::vector<int32_t> heavy;  // heavy experts, then -1 (the dummy) if whole > heavy sum
    std::vector<double> heavy_p;
    int whole = 0;  // entries the systematic stage picks: ceil(sum of heavy q)
    std::vector<int32_t> light;
    std::vector<double> light_q;
    double light_total = 0;  // sum of light q
    AliasTable first;        // light experts, proportional to q
    AliasTable ratio;        // light experts, proportional to q / (1 - ratio_scale q)
  };

  Random32 rng;
  int top_k = 0;
  int group_size = 0;
  std::vector<double> shares;      // realised share of assignments per expert (sum 1)
  std::vector<double> q;           // per expert: pick probability once its group is picked
  std::vector<int32_t> group_ids;  // 0..n_group-1
  std::vector<double> rho;         // per group: probability that a token picks it
  uint64_t eligible_mask = 0;      // groups with rho > 0
  bool pick_groups = false;        // false: every token uses all eligible groups
  int groups_per_token = 0;
  double ratio_scale = 2.0;  // Sampford proposal q / (1 - ratio_scale q); see SampleTokens

  // Pools by group mask, built on first use (at most kMaxPooledExperts experts in all; beyond
  // that a token's pool is rebuilt in `scratch_pool`).
  std::unordered_map<uint64_t, std::unique_ptr<Pool>> pools;
  size_t pooled_experts = 0;
  Pool scratch_pool;

  // Scratch.
  std::vector<uint32_t> mark;  // expert -> stamp of the Sampford attempt that drew it
  uint32_t epoch = 0;
  std::vector<uint32_t> order;
  std::vector<char> picked;
  std::vector<int32_t> chosen, heavy_out;
  std::vector<double> light_p;

  uint32_t NextEpoch() {
    if (++epoch == 0) {
      std::fill(mark.begin(), mark.end(), 0u);
      epoch = 1;
    }
    return epoch;
  }

  void BuildPool(uint64_t mask, Pool* p) const {
    *p = Pool();
    double heavy_sum = 0;
    std::vector<double> ratio_w;
    for (int g = 0; g < int(group_ids.size()); ++g) {
      if (!(mask >> g & 1)) continue;
      for (int32_t e = g * group_size; e < (g + 1) * group_size; ++e) {
        const double x = q[size_t(e)];
        if (x > kHeavy) {
          p->heavy.push_back(e);
          p->heavy_p.push_back(x);
          heavy_sum += x;
        } else if (x > 0) {
          p->light.push_back(e);
          p->light_q.push_back(x);
          ratio_w.push_back(x / (1.0 - ratio_scale * x));
          p->light_total += x;
        }
      }
    }
    if (!p->heavy.empty()) {
      p->whole = std::min(top_k, int(std::ceil(heavy_sum - 1e-9)));
      const double dummy = double(p->whole) - heavy_sum;
      if (dummy > 1e-9 && p->light_total > 1e-9) {
        p->heavy.push_back(-1);
        p->heavy_p.push_back(dummy);
      }
    }
    if (!p->light.empty()) {
      p->first.Build(p->light, p->light_q);
      p->ratio.Build(p->light, ratio_w);
    }
  }

  const Pool* PoolFor(uint64_t mask) {
    auto it = pools.find(mask);
    if (it != pools.end()) return it->second.get();
    if (pooled_experts >= kMaxPooledExperts) {
      BuildPool(mask, &scratch_pool);
      return &scratch_pool;
    }
    auto p = std::make_unique<Pool>();
    BuildPool(mask, p.get());
    pooled_experts += p->light.size() + p->heavy.size();
    return pools.emplace(mask, std::move(p)).first->second.get();
  }
};

ExpertRouter::ExpertRouter(const RoutingSpec& spec, const MoeSpec& moe, int moe_layers,
                           uint64_t seed)
    : spec_(spec), moe_(moe), moe_layers_(moe_layers), seed_(seed) {
  layers_.resize(size_t(std::max(moe_layers, 0)));
}
ExpertRouter::~ExpertRouter() = default;
ExpertRouter::ExpertRouter(ExpertRouter&&) noexcept = default;
ExpertRouter& ExpertRouter::operator=(ExpertRouter&&) noexcept = default;

bool ExpertRouter::group_limited() const {
  return spec_.group_limited && moe_.n_group > 1 && moe_.topk_group < moe_.n_group;
}

int ExpertRouter::GroupOf(int expert) const {
  if (!group_limited() || moe_.routed_experts % moe_.n_group != 0) return 0;
  return expert / (moe_.routed_experts / moe_.n_group);
}

absl::Status ExpertRouter::Validate() const {
  const int E = moe_.routed_experts, k = moe_.top_k;
  if (E < 1)
    return RouterError(absl::StrCat("the model has ", E, " routed experts, expected >= 1"));
  if (k < 1 || k > E) {
    return RouterError(
        absl::StrCat("the model's top_k is ", k, ", expected 1..", E, " (its routed experts)"));
  }
  if (moe_layers_ < 1) {
    return RouterError(absl::StrCat("got ", moe_layers_, " MoE layers, expected >= 1"));
  }
  if (group_limited()) {
    if (moe_.n_group > 64) {
      return RouterError(absl::StrCat(
          "group-limited routing supports up to 64 groups, got n_group ", moe_.n_group));
    }
    if (moe_.topk_group < 1 || E % moe_.n_group != 0) {
      return RouterError(absl::StrCat("group-limited routing needs n_group (", moe_.n_group,
                                      ") to divide the routed experts (", E, ") and topk_group (",
                                      moe_.topk_group, ") >= 1"));
    }
    if (k > moe_.topk_group * (E / moe_.n_group)) {
      return RouterError(absl::StrCat("top_k ", k, " exceeds the experts of topk_group ",
                                      moe_.topk_group, " groups of ", E / moe_.n_group));
    }
  }
  switch (spec_.kind) {
    case RoutingSpec::Kind::kUniform:
      break;
    case RoutingSpec::Kind::kZipf:
      if (!(spec_.exponent >= 0) || !std::isfinite(spec_.exponent)) {
        return RouterError(absl::StrCat("zipf exponent ", spec_.exponent, ", expected >= 0"));
      }
      break;
    case RoutingSpec::Kind::kHotSet: {
      const int h = spec_.hot_experts;
      const double share = spec_.hot_share;
      if (h < 1 || h >= E) {
        return RouterError(absl::StrCat("hot_experts ", h, ", expected 1..", E - 1,
                                        " (fewer than the model's ", E, " routed experts)"));
      }
      if (!(share > 0 && share <= 1)) {
        return RouterError(absl::StrCat("hot_share ", share, ", expected a number in (0, 1]"));
      }
      if (k * share > h * (1 + 1e-12)) {
        return RouterError(absl::StrCat(
            "hot_share ", share, " with top_k ", k, " needs each token to pick ", k * share,
            " hot experts on average, more than the ", h,
            " hot experts (expected hot_share <= hot_experts / top_k = ", double(h) / k, ")"));
      }
      if (k * (1 - share) > (E - h) * (1 + 1e-12)) {
        return RouterError(absl::StrCat(
            "hot_share ", share, " leaves ", k * (1 - share), " picks per token to the ", E - h,
            " other experts (expected hot_share >= ", 1.0 - double(E - h) / k, ")"));
      }
      break;
    }
    case RoutingSpec::Kind::kTable: {
      const size_t rows = spec_.weights.size();
      if (rows != 1 && rows != size_t(moe_layers_)) {
        return RouterError(absl::StrCat("the weight table has ", rows,
                                        " rows, expected 1 (all layers) or ", moe_layers_,
                                        " (one per MoE layer)"));
      }
      for (size_t i = 0; i < rows; ++i) {
        const std::vector<double>& w = spec_.weights[i];
        if (w.size() != size_t(E)) {
          return RouterError(absl::StrCat("weight table row ", i, " has ", w.size(),
                                          " weights, expected one per routed expert (", E, ")"));
        }
        int positive = 0;
        for (double x : w) {
          if (!(x >= 0) || !std::isfinite(x)) {
            return RouterError(absl::StrCat("weight table row ", i, " has weight ", x,
                                            ", expected finite numbers >= 0"));
          }
          positive += x > 0;
        }
        if (positive < k) {
          return RouterError(absl::StrCat("weight table row ", i, " has ", positive,
                                          " positive weights, expected >= top_k (", k, ")"));
        }
      }
      break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ExpertRouter::Layer*> ExpertRouter::GetLayer(int layer) {
  if (layer < 0 || layer >= moe_layers_) {
    return RouterError(absl::StrCat("MoE layer ", layer, ", expected 0..", moe_layers_ - 1));
  }
  if (layers_[size_t(layer)]) return layers_[size_t(layer)].get();
  MOESIM_RETURN_IF_ERROR(Validate());

  const int E = moe_.routed_experts, k = moe_.top_k;
  auto L = std::make_unique<Layer>();
  const uint32_t lo = uint32_t(seed_), hi = uint32_t(seed_ >> 32);
  std::seed_seq layout_seed{lo, hi, uint32_t(layer), 1u};
  Random32 layout_rng;
  layout_rng.Seed(layout_seed);
  std::seed_seq sample_seed{lo, hi, uint32_t(layer), 2u};
  L->rng.Seed(sample_seed);

  // Popularity weights -> per-token pick probabilities pi (sum k, <= 1).
  std::vector<double> w(static_cast<size_t>(E), 1.0);
  if (spec_.kind == RoutingSpec::Kind::kZipf || spec_.kind == RoutingSpec::Kind::kHotSet) {
    std::vector<int32_t> rank(static_cast<size_t>(E));  // rank -> expert
    std::iota(rank.begin(), rank.end(), 0);
    Shuffle(&rank, layout_rng);
    for (int r = 0; r < E; ++r) {
      double x;
      if (spec_.kind == RoutingSpec::Kind::kZipf) {
        x = std::pow(double(r + 1), -spec_.exponent);
      } else {
        x = r < spec_.hot_experts ? spec_.hot_share / spec_.hot_experts
                                  : (1.0 - spec_.hot_share) / (E - spec_.hot_experts);
      }
      w[size_t(rank[size_t(r)])] = x;
    }
  } else if (spec_.kind == RoutingSpec::Kind::kTable) {
    w = spec_.weights[spec_.weights.size() == 1 ? 0 : size_t(layer)];
  }
  std::vector<double> pi;
  WaterFill(w, k, &pi);

  // Groups: rho = water-filled group masses (sum topk_group). Groups capped at rho = 1 are in
  // every token's set; the others have rho proportional to their mass, so a picked group expects
  // m_g = mass_g / rho_g picks and every possible set of picked groups expects exactly k.
  const int G = group_limited() ? moe_.n_group : 1;
  const int gs = E / G;
  std::vector<double> mass(size_t(G), 0.0);
  for (int e = 0; e < E; ++e) mass[size_t(e / gs)] += pi[size_t(e)];
  std::vector<int32_t> eligible;  // groups that can be picked
  for (int g = 0; g < G; ++g) {
    L->group_ids.push_back(g);
    if (mass[size_t(g)] > 0) {
      eligible.push_back(g);
      L->eligible_mask |= uint64_t(1) << g;
    }
  }
  const int tg = group_limited() ? moe_.topk_group : 1;
  L->groups_per_token = std::min(tg, int(eligible.size()));
  L->pick_groups = L->groups_per_token < int(eligible.size());
  if (L->pick_groups) {
    WaterFill(mass, double(L->groups_per_token), &L->rho);
  } else {
    L->rho.assign(size_t(G), 0.0);
    for (int32_t g : eligible) L->rho[size_t(g)] = 1.0;
  }

  // Within a picked group, expert e has probability q_e = pi_e / rho_g, water-filled within the
  // group to m_g so that no q exceeds 1 (only when one expert is more popular than its group can
  // be picked; its excess then goes to its group-mates).
  L->q.assign(size_t(E), 0.0);
  L->shares.assign(size_t(E), 0.0);
  for (int32_t g : eligible) {
    const double m = mass[size_t(g)] / L->rho[size_t(g)];
    const std::vector<double> member_pi(pi.begin() + g * gs, pi.begin() + (g + 1) * gs);
    const int positive =
        int(std::count_if(member_pi.begin(), member_pi.end(), [](double x) { return x > 0; }));
    if (positive < m - 1e-9) {
      return RouterError(absl::StrCat(
          "MoE layer ", layer, ": group-limited routing (", tg, " of ", G, " groups) needs ", m,
          " picks per token from group ", g, ", which has only ", positive,
          " experts with positive weight (expected at least as many as its picks)"));
    }
    std::vector<double> member_q;
    WaterFill(member_pi, m, &member_q);
    for (int i = 0; i < gs; ++i) {
      L->q[size_t(g * gs + i)] = member_q[size_t(i)];
      L->shares[size_t(g * gs + i)] = L->rho[size_t(g)] * member_q[size_t(i)] / k;
    }
  }
  // Without heavy experts every token draws all k picks from light experts with s = 1 (see
  // SampleTokens), so the Sampford ratio q / (1 - q) can be tabulated exactly.
  const bool any_heavy = std::any_of(L->q.begin(), L->q.end(), [](double q) { return q > kHeavy; });
  L->ratio_scale = any_heavy ? 2.0 : 1.0;
  L->top_k = k;
  L->group_size = gs;
  L->mark.assign(size_t(E), 0u);
  layers_[size_t(layer)] = std::move(L);
  return layers_[size_t(layer)].get();
}

absl::Status ExpertRouter::SampleTokens(int layer, int64_t tokens,
                                        std::vector<int32_t>* experts_per_token) {
  if (tokens < 0) return RouterError(absl::StrCat("got ", tokens, " tokens, expected >= 0"));
  MOESIM_ASSIGN_OR_RETURN(Layer * L, GetLayer(layer));
  const int k = moe_.top_k;
  experts_per_token->resize(size_t(tokens) * size_t(k));
  Random32& rng = L->rng;

  for (int64_t t = 0; t < tokens; ++t) {
    int32_t* out = experts_per_token->data() + size_t(t) * size_t(k);
    // 1. The token's groups: groups_per_token distinct groups, group g with probability rho_g.
    uint64_t mask = L->eligible_mask;
    if (L->pick_groups) {
      L->chosen.resize(size_t(L->groups_per_token));
      SystematicSample(L->group_ids, L->rho, L->groups_per_token, rng, &L->order, &L->picked,
                       L->chosen.data());
      mask = 0;
      for (int32_t g : L->chosen) mask |= uint64_t(1) << g;
    }
    const Layer::Pool& P = *L->PoolFor(mask);

    // 2. Heavy experts of those groups (q > kHeavy): systematic sampling. Their q sum to a; a
    // dummy entry of probability ceil(a) - a makes the sum whole, and picking the dummy means
    // floor(a) heavy experts, so a token expects exactly a of them and each exactly q.
    int got = 0;
    if (P.whole > 0) {
      L->heavy_out.resize(size_t(P.whole));
      SystematicSample(P.heavy, P.heavy_p, P.whole, rng, &L->order, &L->picked,
                       L->heavy_out.data());
      for (int32_t e : L->heavy_out) {
        if (e >= 0) out[got++] = e;
      }
    }

    // 3. Light experts: n = k - got more, expert e with probability s * q_e, s = n / light_total
    // (so a token expects k - a of them). Sampford's method: the first draw proportional to q,
    // the others proportional to s q / (1 - s q), drawn from the proposal q / (1 - 2q) and kept
    // with probability (1 - 2q) / (1 - s q) (<= 1: n < light_total + 1, so s < 2 whenever
    // n >= 2, and q <= kHeavy < 0.5). A layer without heavy experts always has s = 1 and
    // tabulates q / (1 - q) directly (ratio_scale 1, nothing to reject).
    const int n = k - got;
    if (n == 0) continue;
    const double s = double(n) / P.light_total;
    bool done = false;
    for (int attempt = 0; attempt < kSampfordAttempts && !done; ++attempt) {
      const uint32_t stamp = L->NextEpoch();
      int32_t e = P.first.Draw(rng);
      L->mark[size_t(e)] = stamp;
      out[got] = e;
      int have = 1;
      for (; have < n; ++have) {
        while (true) {
          e = P.ratio.Draw(rng);
          if (L->ratio_scale == 1.0) break;
          const double qe = L->q[size_t(e)];
          const double keep = (1.0 - 2.0 * qe) / (1.0 - s * qe);
          if (keep >= 1.0 || UniformDouble(rng) < keep) break;
        }
        if (L->mark[size_t(e)] == stamp) break;
        L->mark[size_t(e)] = stamp;
        out[got + have] = e;
      }
      done = have == n;
    }
    if (!done) {
      // Many rejections (light experts near the heavy threshold): systematic sampling instead.
      L->light_p.resize(P.light_q.size());
      for (size_t i = 0; i < P.light_q.size(); ++i) L->light_p[i] = s * P.light_q[i];
      SystematicSample(P.light, L->light_p, n, rng, &L->order, &L->picked, out + got);
    }
  }
  return absl::OkStatus();
}

absl::Status ExpertRouter::Sample(int layer, int64_t tokens,
                                  std::vector<int64_t>* counts_per_expert) {
  if (tokens < 0) return RouterError(absl::StrCat("got ", tokens, " tokens, expected >= 0"));
  MOESIM_RETURN_IF_ERROR(GetLayer(layer).status());
  counts_per_expert->assign(size_t(moe_.routed_experts), 0);
  // Tokens are routed in chunks so the per-token buffer stays small.
  constexpr int64_t kChunk = 4096;
  std::vector<int32_t> buffer;
  for (int64_t done = 0; done < tokens; done += kChunk) {
    MOESIM_RETURN_IF_ERROR(SampleTokens(layer, std::min(kChunk, tokens - done), &buffer));
    for (int32_t e : buffer) ++(*counts_per_expert)[size_t(e)];
  }
  return absl::OkStatus();
}

absl::Status ExpertRouter::SampleCounts(int layer, int64_t tokens,
                                        std::vector<int64_t>* counts_per_expert) {
  if (tokens < 0) return RouterError(absl::StrCat("got ", tokens, " tokens, expected >= 0"));
  MOESIM_ASSIGN_OR_RETURN(Layer * L, GetLayer(layer));
  // Small batches: exact per-token routing costs no more than one draw per expert.
  if (tokens * moe_.top_k <= moe_.routed_experts) return Sample(layer, tokens, counts_per_expert);
  counts_per_expert->assign(size_t(moe_.routed_experts), 0);
  const int groups = int(L->group_ids.size());
  for (int g = 0; g < groups; ++g) {
    if (!(L->eligible_mask >> g & 1)) continue;
    const int64_t picked = L->pick_groups ? Binomial(L->rng, tokens, L->rho[size_t(g)]) : tokens;
    for (int e = g * L->group_size; e < (g + 1) * L->group_size; ++e) {
      (*counts_per_expert)[size_t(e)] = Binomial(L->rng, picked, L->q[size_t(e)]);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> ExpertRouter::ExpectedShares(int layer) {
  MOESIM_ASSIGN_OR_RETURN(Layer * L, GetLayer(layer));
  return L->shares;
}

}  // namespace moesim
