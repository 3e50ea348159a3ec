#include "models/kernel_table.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

double GemmClass::MemorySeconds(double bytes) const {
  return std::min(small.Seconds(bytes), large.Seconds(bytes));
}

namespace {

const NumberRule kMicros = NumberRule::Between(0, 1e5);
const NumberRule kTbPerS = NumberRule::PositiveAtMost(1e3);

absl::StatusOr<EfficiencyCurve> ReadCurve(JsonObjectReader& r, const std::string& key) {
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* curve, r.Array(key));
  return EfficiencyCurve::Parse(*curve, r.where().Key(key));
}

absl::StatusOr<GemmClass> ParseGemm(JsonObjectReader r) {
  GemmClass g;
  MOESIM_ASSIGN_OR_RETURN(g.small.fixed_us, r.Number("small_fixed_us", kMicros));
  MOESIM_ASSIGN_OR_RETURN(g.small.tb_per_s, r.Number("small_tb_per_s", kTbPerS));
  MOESIM_ASSIGN_OR_RETURN(g.large.fixed_us, r.Number("large_fixed_us", kMicros));
  MOESIM_ASSIGN_OR_RETURN(g.large.tb_per_s, r.Number("large_tb_per_s", kTbPerS));
  MOESIM_ASSIGN_OR_RETURN(g.mfu_vs_rows, ReadCurve(r, "mfu_vs_rows"));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return g;
}

absl::StatusOr<MoeClass> ParseMoe(JsonObjectReader r) {
  MoeClass m;
  MOESIM_ASSIGN_OR_RETURN(m.fixed_us, r.Number("fixed_us", kMicros));
  MOESIM_ASSIGN_OR_RETURN(m.us_per_local_expert, r.Number("us_per_local_expert", kMicros));
  MOESIM_ASSIGN_OR_RETURN(m.hbm_efficiency, r.Number("hbm_efficiency", NumberRule::Fraction()));
  MOESIM_ASSIGN_OR_RETURN(m.mfu_vs_rows, ReadCurve(r, "mfu_vs_rows_per_expert"));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return m;
}

absl::StatusOr<AttentionClass> ParseAttention(JsonObjectReader r) {
  AttentionClass a;
  MOESIM_ASSIGN_OR_RETURN(a.fixed_us, r.Number("fixed_us", kMicros));
  MOESIM_ASSIGN_OR_RETURN(a.hbm_efficiency, r.Number("hbm_efficiency", NumberRule::Fraction()));
  MOESIM_ASSIGN_OR_RETURN(a.mfu, r.Number("mfu", NumberRule::Fraction()));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return a;
}

// Parses the object at `key` of `parent` with `parse`.
template <typename T, typename ParseFn>
absl::StatusOr<T> Sub(JsonObjectReader& parent, const std::string& key, ParseFn parse) {
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, parent.Object(key));
  return parse(std::move(r));
}

nlohmann::json GemmToJson(const GemmClass& g) {
  return {{"small_fixed_us", g.small.fixed_us}, {"small_tb_per_s", g.small.tb_per_s},
          {"large_fixed_us", g.large.fixed_us}, {"large_tb_per_s", g.large.tb_per_s},
          {"mfu_vs_rows", g.mfu_vs_rows.ToJson()}};
}

nlohmann::json MoeToJson(const MoeClass& m) {
  return {{"fixed_us", m.fixed_us},
          {"us_per_local_expert", m.us_per_local_expert},
          {"hbm_efficiency", m.hbm_efficiency},
          {"mfu_vs_rows_per_expert", m.mfu_vs_rows.ToJson()}};
}

nlohmann::json AttentionToJson(const AttentionClass& a) {
  return {{"fixed_us", a.fixed_us}, {"hbm_efficiency", a.hbm_efficiency}, {"mfu", a.mfu}};
}

}  // namespace

absl::StatusOr<KernelTable> ParseKernelTable(const nlohmann::json& value,
                                             const JsonLocation& where) {
  KernelTable t;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(t.graph_node_us, r.Number("graph_node_us", kMicros));

  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader gemm, r.Object("gemm"));
  MOESIM_ASSIGN_OR_RETURN(t.gemm_bf16, Sub<GemmClass>(gemm, "bf16", ParseGemm));
  MOESIM_ASSIGN_OR_RETURN(t.gemm_fp8_tensor, Sub<GemmClass>(gemm, "fp8_tensor", ParseGemm));
  MOESIM_ASSIGN_OR_RETURN(t.gemm_fp8_block, Sub<GemmClass>(gemm, "fp8_block", ParseGemm));
  MOESIM_ASSIGN_OR_RETURN(t.gemm_fp4, Sub<GemmClass>(gemm, "fp4", ParseGemm));
  MOESIM_RETURN_IF_ERROR(gemm.Finish());

  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader moe, r.Object("moe"));
  MOESIM_ASSIGN_OR_RETURN(t.moe_bf16, Sub<MoeClass>(moe, "bf16", ParseMoe));
  MOESIM_ASSIGN_OR_RETURN(t.moe_fp8, Sub<MoeClass>(moe, "fp8", ParseMoe));
  MOESIM_ASSIGN_OR_RETURN(t.moe_fp4, Sub<MoeClass>(moe, "fp4", ParseMoe));
  MOESIM_RETURN_IF_ERROR(moe.Finish());

  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader attn, r.Object("attention"));
  MOESIM_ASSIGN_OR_RETURN(t.attention_gqa, Sub<AttentionClass>(attn, "gqa", ParseAttention));
  MOESIM_ASSIGN_OR_RETURN(t.attention_mla, Sub<AttentionClass>(attn, "mla", ParseAttention));
  MOESIM_ASSIGN_OR_RETURN(t.attention_linear, Sub<AttentionClass>(attn, "linear", ParseAttention));
  MOESIM_RETURN_IF_ERROR(attn.Finish());

  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader elem, r.Object("elementwise"));
  MOESIM_ASSIGN_OR_RETURN(t.elementwise.fixed_us, elem.Number("fixed_us", kMicros));
  MOESIM_ASSIGN_OR_RETURN(t.elementwise.hbm_efficiency,
                          elem.Number("hbm_efficiency", NumberRule::Fraction()));
  MOESIM_RETURN_IF_ERROR(elem.Finish());
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return t;
}

nlohmann::json KernelTableToJson(const KernelTable& t) {
  return {{"graph_node_us", t.graph_node_us},
          {"gemm",
           {{"bf16", GemmToJson(t.gemm_bf16)},
            {"fp8_tensor", GemmToJson(t.gemm_fp8_tensor)},
            {"fp8_block", GemmToJson(t.gemm_fp8_block)},
            {"fp4", GemmToJson(t.gemm_fp4)}}},
          {"moe",
           {{"bf16", MoeToJson(t.moe_bf16)},
            {"fp8", MoeToJson(t.moe_fp8)},
            {"fp4", MoeToJson(t.moe_fp4)}}},
          {"attention",
           {{"gqa", AttentionToJson(t.attention_gqa)},
            {"mla", AttentionToJson(t.attention_mla)},
            {"linear", AttentionToJson(t.attention_linear)}}},
          {"elementwise",
           {{"fixed_us", t.elementwise.fixed_us},
            {"hbm_efficiency", t.elementwise.hbm_efficiency}}}};
}

}  // namespace moesim
