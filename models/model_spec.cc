#include "models/model_spec.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

bool ModelSpec::IsMoeLayer(int layer) const {
  if (moe.routed_experts == 0) return false;
  if (layer < moe.first_dense_layers) return false;
  return (layer - moe.first_dense_layers) % moe.moe_layer_interval == moe.moe_layer_interval - 1;
}

int ModelSpec::MoeLayerCount() const {
  int n = 0;
  for (int i = 0; i < layers; ++i) n += IsMoeLayer(i) ? 1 : 0;
  return n;
}

int ModelSpec::CountLayers(LayerAttention kind) const {
  int n = 0;
  for (int i = 0; i < layers; ++i) n += AttentionOf(i) == kind ? 1 : 0;
  return n;
}

double ModelSpec::AttentionParamsPerLayer() const {
  const double h = hidden;
  const AttentionSpec& a = attention;
  if (a.kind == AttentionKind::kMla) {
    const double qk = a.qk_nope_dim + a.qk_rope_dim;
    const double q = a.q_lora_rank > 0 ? h * a.q_lora_rank + double(a.q_lora_rank) * a.q_heads * qk
                                       : h * a.q_heads * qk;
    const double kv_a = h * (a.kv_lora_rank + a.qk_rope_dim);
    const double kv_b = double(a.kv_lora_rank) * a.q_heads * (a.qk_nope_dim + a.v_head_dim);
    const double o = double(a.q_heads) * a.v_head_dim * h;
    return q + kv_a + kv_b + o;
  }
  const double q = h * a.q_heads * a.head_dim * (a.output_gate ? 2.0 : 1.0);
  const double kv = 2.0 * h * a.kv_heads * a.head_dim;
  const double o = double(a.q_heads) * a.head_dim * h;
  return q + kv + o;
}

double ModelSpec::LinearAttentionParamsPerLayer() const {
  const double h = hidden;
  const LinearAttentionSpec& l = linear;
  const double qk = 2.0 * l.k_heads * l.k_dim;
  const double v = double(l.v_heads) * l.v_dim;
  const double in_proj = h * (qk + 2.0 * v) + h * 2.0 * l.v_heads;  // qkvz + beta/alpha
  const double conv = (qk + v) * l.conv_kernel;
  const double out_proj = v * h;
  return in_proj + conv + out_proj;
}

double ModelSpec::ExpertParams() const { return 3.0 * hidden * moe.expert_inter; }
double ModelSpec::SharedExpertParams() const {
  return 3.0 * hidden * moe.shared_inter * moe.shared_experts;
}
double ModelSpec::DenseFfnParams() const { return 3.0 * hidden * moe.dense_inter; }
double ModelSpec::RouterParams() const { return double(hidden) * moe.routed_experts; }
double ModelSpec::EmbeddingParams() const {
  return double(vocab) * hidden * (tie_embeddings ? 1.0 : 2.0);
}

namespace {
// Parameters of the whole model with `experts_per_layer` routed experts counted per MoE layer.
double CountParams(const ModelSpec& m, double experts_per_layer) {
  double total = m.EmbeddingParams();
  for (int i = 0; i < m.layers; ++i) {
    total += m.AttentionOf(i) == LayerAttention::kLinear ? m.LinearAttentionParamsPerLayer()
                                                         : m.AttentionParamsPerLayer();
    if (m.IsMoeLayer(i)) {
      total += experts_per_layer * m.ExpertParams() + m.SharedExpertParams() + m.RouterParams();
    } else {
      total += m.DenseFfnParams();
    }
  }
  return total;
}
}  // namespace

double ModelSpec::TotalParams() const { return CountParams(*this, moe.routed_experts); }
double ModelSpec::ActiveParams() const { return CountParams(*this, moe.top_k); }

double ModelSpec::WeightBytes() const {
  const double dense_b = WeightBytesPerElement(weight_dtype);
  const double expert_b = WeightBytesPerElement(expert_weight_dtype);
  const double bf16 = WeightBytesPerElement(DType::kBf16);
  double bytes = EmbeddingParams() * bf16;
  for (int i = 0; i < layers; ++i) {
    bytes += (AttentionOf(i) == LayerAttention::kLinear ? LinearAttentionParamsPerLayer()
                                                        : AttentionParamsPerLayer()) *
             dense_b;
    if (IsMoeLayer(i)) {
      bytes += moe.routed_experts * ExpertParams() * expert_b + SharedExpertParams() * dense_b +
               RouterParams() * bf16;
    } else {
      bytes += DenseFfnParams() * dense_b;
    }
  }
  return bytes;
}

double ModelSpec::KvBytesPerTokenPerLayer(int attention_tp) const {
  const AttentionSpec& a = attention;
  if (a.kind == AttentionKind::kMla) {
    // Latent + rope key, replicated on every rank. FP8 uses FlashMLA's layout: fp8 latent,
    // one fp32 scale per 128 latent values, bf16 rope (656 B/token, calibration.md §4.2).
    if (kv_dtype == DType::kFp8) {
      return a.kv_lora_rank * 1.0 + a.kv_lora_rank / 128.0 * 4.0 + a.qk_rope_dim * 2.0;
    }
    return (a.kv_lora_rank + a.qk_rope_dim) * ElementBytes(kv_dtype);
  }
  const double heads_per_rank = std::max(1.0, double(a.kv_heads) / attention_tp);
  return 2.0 * heads_per_rank * a.head_dim * ElementBytes(kv_dtype);
}

double ModelSpec::LinearStateBytesPerLayer(int attention_tp, double state_bytes) const {
  const LinearAttentionSpec& l = linear;
  const double conv_elems =
      (2.0 * l.k_heads * l.k_dim + double(l.v_heads) * l.v_dim) * (l.conv_kernel - 1);
  const double state_elems = double(l.v_heads) * l.k_dim * l.v_dim;
  return (conv_elems * ElementBytes(DType::kBf16) + state_elems * state_bytes) / attention_tp;
}

double ModelSpec::SequenceKvBytes(int64_t tokens, int attention_tp, double state_bytes) const {
  const double per_token = KvBytesPerTokenPerLayer(attention_tp);
  const double window_tokens = std::min<double>(tokens, sliding_window_tokens);
  return CountLayers(LayerAttention::kFull) * per_token * double(tokens) +
         CountLayers(LayerAttention::kSliding) * per_token * window_tokens +
         CountLayers(LayerAttention::kLinear) * LinearStateBytesPerLayer(attention_tp, state_bytes);
}

namespace {

const std::vector<std::string> kDTypes = {"bf16", "fp8", "fp4"};

// Architecture sizes: bounded far above any real model so that derived figures stay finite.
constexpr double kMaxDimension = 1e7;
constexpr double kMaxLayers = 1e4;

absl::StatusOr<int> PositiveInt(JsonObjectReader& r, const std::string& key,
                                double max = kMaxDimension) {
  MOESIM_ASSIGN_OR_RETURN(int64_t v, r.Integer(key, NumberRule::Between(1, max)));
  return static_cast<int>(v);
}
absl::StatusOr<int> IntOr(JsonObjectReader& r, const std::string& key, int fallback, double min) {
  MOESIM_ASSIGN_OR_RETURN(int64_t v,
                          r.IntegerOr(key, fallback, NumberRule::Between(min, kMaxDimension)));
  return static_cast<int>(v);
}

absl::StatusOr<DType> ReadDType(JsonObjectReader& r, const std::string& key) {
  MOESIM_ASSIGN_OR_RETURN(std::string s, r.Enum(key, kDTypes));
  return *ParseDType(s);
}

absl::Status ParseAttention(JsonObjectReader r, AttentionSpec& a) {
  MOESIM_ASSIGN_OR_RETURN(std::string kind, r.Enum("kind", {"mha", "gqa", "mla"}));
  MOESIM_ASSIGN_OR_RETURN(a.q_heads, PositiveInt(r, "q_heads"));
  if (kind == "mla") {
    a.kind = AttentionKind::kMla;
    MOESIM_ASSIGN_OR_RETURN(a.q_lora_rank, IntOr(r, "q_lora_rank", 0, 0));
    MOESIM_ASSIGN_OR_RETURN(a.kv_lora_rank, PositiveInt(r, "kv_lora_rank"));
    MOESIM_ASSIGN_OR_RETURN(a.qk_nope_dim, PositiveInt(r, "qk_nope_dim"));
    MOESIM_ASSIGN_OR_RETURN(a.qk_rope_dim, PositiveInt(r, "qk_rope_dim"));
    MOESIM_ASSIGN_OR_RETURN(a.v_head_dim, PositiveInt(r, "v_head_dim"));
  } else {
    a.kind = AttentionKind::kGqa;
    if (kind == "mha") {
      a.kv_heads = a.q_heads;
    } else {
      MOESIM_ASSIGN_OR_RETURN(a.kv_heads, PositiveInt(r, "kv_heads"));
      if (a.q_heads % a.kv_heads != 0) {
        return BadValue(r.where().Key("kv_heads"), a.kv_heads,
                        absl::StrCat("a divisor of q_heads (", a.q_heads, ")"));
      }
    }
    MOESIM_ASSIGN_OR_RETURN(a.head_dim, PositiveInt(r, "head_dim"));
    MOESIM_ASSIGN_OR_RETURN(a.qk_norm, r.BoolOr("qk_norm", false));
    MOESIM_ASSIGN_OR_RETURN(a.output_gate, r.BoolOr("output_gate", false));
  }
  return r.Finish();
}

absl::Status ParseLinear(JsonObjectReader r, LinearAttentionSpec& l) {
  MOESIM_ASSIGN_OR_RETURN(l.k_heads, PositiveInt(r, "k_heads"));
  MOESIM_ASSIGN_OR_RETURN(l.v_heads, PositiveInt(r, "v_heads"));
  MOESIM_ASSIGN_OR_RETURN(l.k_dim, PositiveInt(r, "k_dim"));
  MOESIM_ASSIGN_OR_RETURN(l.v_dim, PositiveInt(r, "v_dim"));
  MOESIM_ASSIGN_OR_RETURN(l.conv_kernel, PositiveInt(r, "conv_kernel"));
  return r.Finish();
}

absl::Status ParseMoe(JsonObjectReader r, MoeSpec& m) {
  MOESIM_ASSIGN_OR_RETURN(m.routed_experts, PositiveInt(r, "routed_experts"));
  MOESIM_ASSIGN_OR_RETURN(m.top_k, PositiveInt(r, "top_k"));
  MOESIM_ASSIGN_OR_RETURN(m.expert_inter, PositiveInt(r, "expert_inter"));
  MOESIM_ASSIGN_OR_RETURN(m.shared_experts, IntOr(r, "shared_experts", 0, 0));
  MOESIM_ASSIGN_OR_RETURN(m.shared_inter, IntOr(r, "shared_inter", m.expert_inter, 1));
  MOESIM_ASSIGN_OR_RETURN(m.first_dense_layers, IntOr(r, "first_dense_layers", 0, 0));
  MOESIM_ASSIGN_OR_RETURN(m.dense_inter, IntOr(r, "dense_inter", 0, 0));
  MOESIM_ASSIGN_OR_RETURN(m.moe_layer_interval, IntOr(r, "moe_layer_interval", 1, 1));
  MOESIM_ASSIGN_OR_RETURN(m.n_group, IntOr(r, "n_group", 1, 1));
  MOESIM_ASSIGN_OR_RETURN(m.topk_group, IntOr(r, "topk_group", m.n_group, 1));
  if (m.top_k > m.routed_experts) {
    return BadValue(r.where().Key("top_k"), m.top_k,
                    absl::StrCat("at most routed_experts (", m.routed_experts, ")"));
  }
  if (m.routed_experts % m.n_group != 0) {
    return BadValue(r.where().Key("n_group"), m.n_group,
                    absl::StrCat("a divisor of routed_experts (", m.routed_experts, ")"));
  }
  if (m.topk_group > m.n_group) {
    return BadValue(r.where().Key("topk_group"), m.topk_group,
                    absl::StrCat("at most n_group (", m.n_group, ")"));
  }
  return r.Finish();
}

}  // namespace

absl::StatusOr<ModelSpec> ParseModelSpec(const nlohmann::json& value, const JsonLocation& where,
                                         const std::string& name) {
  ModelSpec m;
  m.name = name;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(m.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(m.layers, PositiveInt(r, "layers", kMaxLayers));
  MOESIM_ASSIGN_OR_RETURN(m.hidden, PositiveInt(r, "hidden"));
  MOESIM_ASSIGN_OR_RETURN(m.vocab, PositiveInt(r, "vocab"));
  MOESIM_ASSIGN_OR_RETURN(m.tie_embeddings, r.BoolOr("tie_embeddings", false));
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader attn, r.Object("attention"));
  MOESIM_RETURN_IF_ERROR(ParseAttention(attn, m.attention));

  if (r.Has("attention_pattern")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* pattern, r.Array("attention_pattern"));
    const JsonLocation where_pattern = where.Key("attention_pattern");
    const std::string expected = "\"full\", \"sliding\" or \"linear\"";
    if (pattern->empty()) return BadValue(where_pattern, *pattern, "a non-empty array");
    m.attention_pattern.clear();
    for (size_t i = 0; i < pattern->size(); ++i) {
      const auto& e = (*pattern)[i];
      if (!e.is_string()) return BadValue(where_pattern.Index(i), e, expected);
      const std::string s = e.get<std::string>();
      if (s == "full") {
        m.attention_pattern.push_back(LayerAttention::kFull);
      } else if (s == "sliding") {
        m.attention_pattern.push_back(LayerAttention::kSliding);
      } else if (s == "linear") {
        m.attention_pattern.push_back(LayerAttention::kLinear);
      } else {
        return BadValue(where_pattern.Index(i), e, expected);
      }
    }
  }
  const bool has_sliding = m.CountLayers(LayerAttention::kSliding) > 0;
  const bool has_linear = m.CountLayers(LayerAttention::kLinear) > 0;
  if (has_sliding || r.Has("sliding_window_tokens")) {
    MOESIM_ASSIGN_OR_RETURN(m.sliding_window_tokens, PositiveInt(r, "sliding_window_tokens"));
  }
  if (has_linear || r.Has("linear_attention")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader lin, r.Object("linear_attention"));
    MOESIM_RETURN_IF_ERROR(ParseLinear(lin, m.linear));
  }
  if (r.Has("moe") || !r.Has("intermediate_size")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader moe, r.Object("moe"));
    MOESIM_RETURN_IF_ERROR(ParseMoe(moe, m.moe));
    if (r.Has("intermediate_size")) {
      return BadInput(where.Key("intermediate_size"),
                      "not with \"moe\": a dense model gives intermediate_size, a mixture-of-"
                      "experts model its moe section (dense layers' width: moe.dense_inter)");
    }
  } else {
    // A dense model (a speculative draft model): every layer a dense FFN.
    MOESIM_ASSIGN_OR_RETURN(m.moe.dense_inter, PositiveInt(r, "intermediate_size"));
    m.moe.first_dense_layers = m.layers;
  }
  MOESIM_ASSIGN_OR_RETURN(m.mtp_layers, IntOr(r, "mtp_layers", 0, 0));
  MOESIM_ASSIGN_OR_RETURN(m.weight_dtype, ReadDType(r, "weight_dtype"));
  if (r.Has("expert_weight_dtype")) {
    MOESIM_ASSIGN_OR_RETURN(m.expert_weight_dtype, ReadDType(r, "expert_weight_dtype"));
  } else {
    m.expert_weight_dtype = m.weight_dtype;
  }
  MOESIM_ASSIGN_OR_RETURN(m.kv_dtype, ReadDType(r, "kv_dtype"));
  MOESIM_ASSIGN_OR_RETURN(std::string scaling,
                          r.EnumOr("fp8_scaling", "block", {"block", "tensor"}));
  m.fp8_block_scaled = scaling == "block";
  MOESIM_ASSIGN_OR_RETURN(m.max_context_tokens,
                          r.Integer("max_context_tokens", NumberRule::Between(1, 1e9)));
  MOESIM_RETURN_IF_ERROR(r.Finish());

  if (m.moe.first_dense_layers > 0 && m.moe.dense_inter == 0) {
    return BadInput(where.Key("moe").Key("dense_inter"),
                    "required (> 0) when first_dense_layers > 0");
  }
  if (m.moe.first_dense_layers > m.layers) {
    return BadValue(where.Key("moe").Key("first_dense_layers"), m.moe.first_dense_layers,
                    absl::StrCat("at most layers (", m.layers, ")"));
  }
  if (m.moe.moe_layer_interval > 1 && m.moe.dense_inter == 0) {
    return BadInput(where.Key("moe").Key("dense_inter"),
                    "required (> 0) when moe_layer_interval > 1");
  }
  return m;
}

nlohmann::json ModelSpecToJson(const ModelSpec& m) {
  nlohmann::json j = nlohmann::json::object();
  j["description"] = m.description;
  j["layers"] = m.layers;
  j["hidden"] = m.hidden;
  j["vocab"] = m.vocab;
  j["tie_embeddings"] = m.tie_embeddings;
  nlohmann::json a = nlohmann::json::object();
  a["q_heads"] = m.attention.q_heads;
  if (m.attention.kind == AttentionKind::kMla) {
    a["kind"] = "mla";
    a["q_lora_rank"] = m.attention.q_lora_rank;
    a["kv_lora_rank"] = m.attention.kv_lora_rank;
    a["qk_nope_dim"] = m.attention.qk_nope_dim;
    a["qk_rope_dim"] = m.attention.qk_rope_dim;
    a["v_head_dim"] = m.attention.v_head_dim;
  } else {
    a["kind"] = "gqa";
    a["kv_heads"] = m.attention.kv_heads;
    a["head_dim"] = m.attention.head_dim;
    a["qk_norm"] = m.attention.qk_norm;
    a["output_gate"] = m.attention.output_gate;
  }
  j["attention"] = a;
  nlohmann::json pattern = nlohmann::json::array();
  for (LayerAttention p : m.attention_pattern) {
    pattern.push_back(p == LayerAttention::kFull      ? "full"
                      : p == LayerAttention::kSliding ? "sliding"
                                                      : "linear");
  }
  j["attention_pattern"] = pattern;
  if (m.sliding_window_tokens > 0) j["sliding_window_tokens"] = m.sliding_window_tokens;
  if (m.CountLayers(LayerAttention::kLinear) > 0) {
    j["linear_attention"] = {{"k_heads", m.linear.k_heads},
                             {"v_heads", m.linear.v_heads},
                             {"k_dim", m.linear.k_dim},
                             {"v_dim", m.linear.v_dim},
                             {"conv_kernel", m.linear.conv_kernel}};
  }
  if (m.IsDense()) {
    j["intermediate_size"] = m.moe.dense_inter;
  } else {
    j["moe"] = {{"routed_experts", m.moe.routed_experts},
                {"top_k", m.moe.top_k},
                {"expert_inter", m.moe.expert_inter},
                {"shared_experts", m.moe.shared_experts},
                {"shared_inter", m.moe.shared_inter},
                {"first_dense_layers", m.moe.first_dense_layers},
                {"dense_inter", m.moe.dense_inter},
                {"moe_layer_interval", m.moe.moe_layer_interval},
                {"n_group", m.moe.n_group},
                {"topk_group", m.moe.topk_group}};
  }
  j["mtp_layers"] = m.mtp_layers;
  j["weight_dtype"] = DTypeName(m.weight_dtype);
  j["expert_weight_dtype"] = DTypeName(m.expert_weight_dtype);
  j["kv_dtype"] = DTypeName(m.kv_dtype);
  j["fp8_scaling"] = m.fp8_block_scaled ? "block" : "tensor";
  j["max_context_tokens"] = m.max_context_tokens;
  return j;
}

ModelSpec WithAppendedLayers(const ModelSpec& model, int n) {
  ModelSpec m = model;
  m.layers += n;
  return m;
}

}  // namespace moesim
