#include "models/speculative.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

namespace {

// Largest k accepted: production stacks run 1-8 draft tokens (measurements/README.md §3).
constexpr int kMaxDraftTokens = 16;

// p_i from acceptance lengths AL(1..k): Π_{j<=i} p_j = AL(i) - AL(i-1), AL(0) = 1. A curve that
// falls (measurement noise at saturation) gives p_i = 0 there.
absl::StatusOr<std::vector<double>> FromLengths(const nlohmann::json& lengths, int k,
                                                const JsonLocation& where) {
  if (!lengths.is_array() || static_cast<int>(lengths.size()) < k) {
    return BadValue(where, lengths,
                    absl::StrCat("an array of at least draft_tokens = ", k,
                                 " acceptance lengths (for k = 1, 2, ...)"));
  }
  std::vector<double> p;
  double previous = 1.0, reach = 1.0;  // AL(i-1), Π_{j<i} p_j
  for (int i = 0; i < k; ++i) {
    const nlohmann::json& v = lengths[static_cast<size_t>(i)];
    if (!v.is_number() || v.get<double>() < 1.0 || v.get<double>() > double(i) + 2.0) {
      return BadValue(where.Index(i), v,
                      absl::StrCat("an acceptance length between 1 and ", i + 2,
                                   " (at most k + 1 tokens per verification)"));
    }
    const double gain = std::max(0.0, v.get<double>() - previous);
    const double pi = reach > 0 ? std::min(1.0, gain / reach) : 0.0;
    p.push_back(pi);
    reach *= pi;
    previous = std::max(previous, v.get<double>());
  }
  return p;
}

// speculative.draft_model: a model preset (or object) that can draft for `target`.
absl::StatusOr<ModelSpec> ParseDraftModel(JsonObjectReader& r, const JsonLocation& where,
                                          const ModelSpec& target, const PresetLibrary& presets) {
  const JsonLocation dw = where.Key("draft_model");
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* value, r.Value("draft_model"));
  MOESIM_ASSIGN_OR_RETURN(PresetLibrary::Resolved resolved,
                          presets.Resolve(PresetKind::kModel, *value, dw));
  MOESIM_ASSIGN_OR_RETURN(ModelSpec draft, ParseModelSpec(*resolved.value, dw, resolved.name));
  if (draft.vocab != target.vocab) {
    return BadValue(dw.Key("vocab"), draft.vocab,
                    absl::StrCat("the target's vocabulary size (", target.name, ": ", target.vocab,
                                 "): a draft model proposes the target's tokens"));
  }
  if (draft.CountLayers(LayerAttention::kLinear) > 0) {
    return BadValue(dw.Key("attention_pattern"), draft.name,
                    "a draft model with full or sliding-window attention in every layer (a "
                    "linear-attention draft's state is not simulated)");
  }
  return draft;
}

}  // namespace

double SpeculativeSpec::ExpectedAcceptanceLength() const {
  double length = 1.0, reach = 1.0;
  for (double p : accept_probability) {
    reach *= p;
    length += reach;
  }
  return length;
}

absl::StatusOr<SpeculativeSpec> ParseSpeculativeSpec(const nlohmann::json& value,
                                                     const JsonLocation& where,
                                                     const ModelSpec& model,
                                                     const PresetLibrary& presets) {
  SpeculativeSpec s;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(std::string method, r.Enum("method", {"mtp", "eagle", "draft_model"}));
  if (method == "draft_model") {
    s.method = DraftMethod::kDraftModel;
    MOESIM_ASSIGN_OR_RETURN(s.draft_model, ParseDraftModel(r, where, model, presets));
    MOESIM_ASSIGN_OR_RETURN(int64_t gpus, r.IntegerOr("draft_gpus", 0, NumberRule::Between(1, 64)));
    s.draft_gpus = static_cast<int>(gpus);
  } else if (method == "eagle") {
    s.method = DraftMethod::kEagle;
    MOESIM_ASSIGN_OR_RETURN(
        int64_t inter,
        r.IntegerOr("draft_intermediate_size", model.moe.dense_inter, NumberRule::Between(1, 1e6)));
    if (inter < 1) {
      return BadInput(where, absl::StrCat("\"draft_intermediate_size\" is needed: ", model.name,
                                          " has no dense FFN layer to take the head's width from"));
    }
    s.draft_intermediate = static_cast<int>(inter);
  } else if (model.mtp_layers < 1) {
    return BadValue(where.Key("method"), method,
                    absl::StrCat("a method the model supports: ", model.name,
                                 " has no MTP layers (model.mtp_layers is 0)"));
  }
  MOESIM_ASSIGN_OR_RETURN(int64_t k,
                          r.Integer("draft_tokens", NumberRule::Between(1, kMaxDraftTokens)));
  s.draft_tokens = static_cast<int>(k);
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader a, r.Object("acceptance"));
  const JsonLocation aw = where.Key("acceptance");
  const int given = int(a.Has("per_position")) + int(a.Has("lengths")) + int(a.Has("curve")) +
                    int(a.Has("mean_length"));
  if (given != 1) {
    return BadInput(aw,
                    "needs exactly one of \"per_position\" (probabilities p_1..p_k), "
                    "\"lengths\" (acceptance length for k = 1, 2, ...), \"curve\" (a "
                    "preset of acceptance_curves.json) or \"mean_length\" with \"decay\"");
  }
  if (a.Has("per_position")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* p, a.Array("per_position"));
    if (static_cast<int>(p->size()) < s.draft_tokens) {
      return BadValue(aw.Key("per_position"), *p,
                      absl::StrCat("at least draft_tokens = ", k, " probabilities"));
    }
    for (int i = 0; i < s.draft_tokens; ++i) {
      const nlohmann::json& v = (*p)[static_cast<size_t>(i)];
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
        return BadValue(aw.Key("per_position").Index(i), v, "a probability in [0, 1]");
      }
      s.accept_probability.push_back(v.get<double>());
    }
    s.acceptance_source = "per_position";
  } else if (a.Has("mean_length")) {
    // p_i = p_1 · decay^(i-1), p_1 chosen so that the expected acceptance length is the mean.
    MOESIM_ASSIGN_OR_RETURN(const double mean,
                            a.Number("mean_length", NumberRule::Between(1, 1.0 + double(k))));
    MOESIM_ASSIGN_OR_RETURN(const double decay, a.Number("decay", NumberRule::PositiveAtMost(1)));
    auto profile = [&](double p1) {
      SpeculativeSpec x;
      for (int i = 0; i < s.draft_tokens; ++i)
        x.accept_probability.push_back(p1 * std::pow(decay, i));
      return x;
    };
    const double most = profile(1.0).ExpectedAcceptanceLength();
    if (most < mean - 1e-9) {
      return BadValue(
          aw.Key("mean_length"), mean,
          absl::StrCat("at most ", most, " (every draft position at p_1 = 1 with this decay)"));
    }
    double lo = 0, hi = 1;
    for (int it = 0; it < 60; ++it) {  // bisection on p_1
      const double mid = 0.5 * (lo + hi);
      (profile(mid).ExpectedAcceptanceLength() < mean ? lo : hi) = mid;
    }
    s.accept_probability = profile(0.5 * (lo + hi)).accept_probability;
    s.acceptance_source = "mean_length with decay";
  } else if (a.Has("lengths")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* l, a.Value("lengths"));
    MOESIM_ASSIGN_OR_RETURN(s.accept_probability,
                            FromLengths(*l, s.draft_tokens, aw.Key("lengths")));
    s.acceptance_source = "lengths";
  } else {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* c, a.Value("curve"));
    MOESIM_ASSIGN_OR_RETURN(PresetLibrary::Resolved curve,
                            presets.Resolve(PresetKind::kAcceptanceCurve, *c, aw.Key("curve")));
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader cr,
                            JsonObjectReader::Open(*curve.value, aw.Key("curve")));
    MOESIM_RETURN_IF_ERROR(cr.StringOr("description", "").status());
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* l, cr.Value("lengths"));
    MOESIM_RETURN_IF_ERROR(cr.Finish());
    MOESIM_ASSIGN_OR_RETURN(s.accept_probability,
                            FromLengths(*l, s.draft_tokens, aw.Key("curve").Key("lengths")));
    s.acceptance_source = "curve " + curve.name;
  }
  MOESIM_RETURN_IF_ERROR(a.Finish());
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return s;
}

nlohmann::json SpeculativeSpecToJson(const SpeculativeSpec& s) {
  nlohmann::json j = {{"method", DraftMethodName(s.method)},
                      {"draft_tokens", s.draft_tokens},
                      {"accept_probability", s.accept_probability},
                      {"acceptance_source", s.acceptance_source},
                      {"expected_acceptance_length", s.ExpectedAcceptanceLength()}};
  if (s.method == DraftMethod::kEagle) j["draft_intermediate_size"] = s.draft_intermediate;
  if (s.method == DraftMethod::kDraftModel) {
    j["draft_model"] = s.draft_model.name;
    j["draft_model_params_b"] = s.draft_model.TotalParams() / 1e9;
    if (s.draft_gpus > 0) j["draft_gpus"] = s.draft_gpus;
  }
  return j;
}

ModelSpec MtpDraftModel(const ModelSpec& target) {
  ModelSpec d = target;
  d.name = target.name + " MTP layer";
  d.layers = 1;
  // The MTP module is one decoder layer like the target's last: MoE when the target has MoE
  // layers beyond its dense ones (DeepSeek-V3's MTP layer is an MoE layer).
  const bool moe = target.MoeLayerCount() > 0;
  d.moe.first_dense_layers = moe ? 0 : 1;
  d.moe.moe_layer_interval = 1;
  d.attention_pattern = {LayerAttention::kFull};
  d.mtp_layers = 0;
  return d;
}

const char* DraftMethodName(DraftMethod m) {
  switch (m) {
    case DraftMethod::kMtp:
      return "mtp";
    case DraftMethod::kEagle:
      return "eagle";
    case DraftMethod::kDraftModel:
      return "draft_model";
  }
  return "?";
}

ModelSpec EagleDraftModel(const ModelSpec& target, int intermediate) {
  ModelSpec d = target;
  d.name = target.name + " EAGLE-3 head";
  d.layers = 1;
  d.moe.first_dense_layers = 1;  // its one layer is dense
  d.moe.moe_layer_interval = 1;
  d.moe.dense_inter = intermediate;
  d.attention_pattern = {LayerAttention::kFull};
  d.mtp_layers = 0;
  return d;
}

ModelSpec DraftModelFor(const ModelSpec& target, const SpeculativeSpec& spec) {
  switch (spec.method) {
    case DraftMethod::kEagle:
      return EagleDraftModel(target, spec.draft_intermediate);
    case DraftMethod::kDraftModel:
      return spec.draft_model;
    case DraftMethod::kMtp:
      break;
  }
  return MtpDraftModel(target);
}

ParallelPlan DraftParallelPlan(const ParallelPlan& target, const SpeculativeSpec& spec) {
  if (spec.method == DraftMethod::kDraftModel) return SeparateDraftModelPlan(target);
  ParallelPlan p = target;
  p.pp = 1;
  return p;
}

ParallelPlan OwnDraftGpusPlan(int gpus) {
  ParallelPlan own;
  own.tp = gpus;
  return own;
}

ParallelPlan SeparateDraftModelPlan(const ParallelPlan& target) {
  ParallelPlan p = target;
  p.pp = 1;
  p.redundant_experts = 0;
  return p;
}

int AcceptanceSampler::Sample() {
  int accepted = 0;
  for (double p : p_) {
    if (uniform_(rng_) >= p) break;
    ++accepted;
  }
  return accepted;
}

}  // namespace moesim
