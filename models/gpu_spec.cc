#include "models/gpu_spec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

double GpuSpec::PeakFlops(DType dtype) const {
  switch (dtype) {
    case DType::kFp4:
      return (fp4_tflops ? *fp4_tflops : bf16_tflops) * 1e12;
    case DType::kFp8:
      return fp8_tflops * 1e12;
    case DType::kBf16:
      return bf16_tflops * 1e12;
  }
  return bf16_tflops * 1e12;
}

absl::StatusOr<GpuSpec> ParseGpuSpec(const nlohmann::json& value, const JsonLocation& where,
                                     const std::string& name) {
  GpuSpec g;
  g.name = name;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(g.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(g.bf16_tflops, r.Number("bf16_tflops", NumberRule::PositiveAtMost(1e6)));
  MOESIM_ASSIGN_OR_RETURN(g.fp8_tflops, r.Number("fp8_tflops", NumberRule::PositiveAtMost(1e6)));
  MOESIM_ASSIGN_OR_RETURN(g.fp4_tflops,
                          r.OptionalNumber("fp4_tflops", NumberRule::PositiveAtMost(1e6)));
  MOESIM_ASSIGN_OR_RETURN(g.hbm_gb, r.Number("hbm_gb", NumberRule::PositiveAtMost(1e5)));
  MOESIM_ASSIGN_OR_RETURN(g.hbm_tb_per_s,
                          r.Number("hbm_tb_per_s", NumberRule::PositiveAtMost(1e3)));
  MOESIM_ASSIGN_OR_RETURN(int64_t sms, r.Integer("num_sms", NumberRule::Between(1, 1 << 20)));
  g.num_sms = static_cast<int>(sms);
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* kernels, r.Value("kernels"));
  MOESIM_ASSIGN_OR_RETURN(g.kernels, ParseKernelTable(*kernels, where.Key("kernels")));
  MOESIM_ASSIGN_OR_RETURN(g.tdp_w, r.Number("tdp_w", NumberRule::PositiveAtMost(1e5)));
  MOESIM_ASSIGN_OR_RETURN(g.idle_w, r.Number("idle_w", NumberRule::NonNegative()));
  MOESIM_ASSIGN_OR_RETURN(g.usd_per_hour, r.Number("usd_per_hour", NumberRule::NonNegative()));
  MOESIM_ASSIGN_OR_RETURN(int64_t domain,
                          r.Integer("scaleup_domain_gpus", NumberRule::Between(1, 1 << 16)));
  g.scaleup_domain_gpus = static_cast<int>(domain);
  MOESIM_ASSIGN_OR_RETURN(std::string scope, r.Enum("scaleup_scope", {"server", "rack"}));
  g.scaleup_spans_rack = scope == "rack";
  MOESIM_ASSIGN_OR_RETURN(g.scaleup_fabric, r.String("scaleup_fabric"));
  MOESIM_ASSIGN_OR_RETURN(g.scaleout_fabric, r.String("scaleout_fabric"));
  MOESIM_ASSIGN_OR_RETURN(g.host_fabric, r.String("host_fabric"));
  MOESIM_ASSIGN_OR_RETURN(g.moe_dispatch_floor_us,
                          r.Number("moe_dispatch_floor_us", NumberRule::Between(0, 1e6)));
  MOESIM_ASSIGN_OR_RETURN(g.moe_combine_floor_us,
                          r.Number("moe_combine_floor_us", NumberRule::Between(0, 1e6)));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  if (g.idle_w >= g.tdp_w) {
    return BadValue(where.Key("idle_w"), g.idle_w,
                    absl::StrCat("a number below tdp_w (", g.tdp_w, ")"));
  }
  return g;
}

nlohmann::json GpuSpecToJson(const GpuSpec& g) {
  nlohmann::json j = nlohmann::json::object();
  j["description"] = g.description;
  j["bf16_tflops"] = g.bf16_tflops;
  j["fp8_tflops"] = g.fp8_tflops;
  if (g.fp4_tflops) j["fp4_tflops"] = *g.fp4_tflops;
  j["hbm_gb"] = g.hbm_gb;
  j["hbm_tb_per_s"] = g.hbm_tb_per_s;
  j["num_sms"] = g.num_sms;
  j["kernels"] = KernelTableToJson(g.kernels);
  j["tdp_w"] = g.tdp_w;
  j["idle_w"] = g.idle_w;
  j["usd_per_hour"] = g.usd_per_hour;
  j["scaleup_domain_gpus"] = g.scaleup_domain_gpus;
  j["scaleup_scope"] = g.scaleup_spans_rack ? "rack" : "server";
  j["scaleup_fabric"] = g.scaleup_fabric;
  j["scaleout_fabric"] = g.scaleout_fabric;
  j["host_fabric"] = g.host_fabric;
  j["moe_dispatch_floor_us"] = g.moe_dispatch_floor_us;
  j["moe_combine_floor_us"] = g.moe_combine_floor_us;
  return j;
}

}  // namespace moesim
