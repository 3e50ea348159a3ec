#include "models/fabric_spec.h"

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

absl::StatusOr<FabricSpec> ParseFabricSpec(const nlohmann::json& value, const JsonLocation& where,
                                           const std::string& name) {
  FabricSpec f;
  f.name = name;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(f.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(f.gb_per_s, r.Number("gb_per_s", NumberRule::PositiveAtMost(1e6)));
  MOESIM_ASSIGN_OR_RETURN(f.latency_us, r.Number("latency_us", NumberRule::Between(0, 1e6)));
  MOESIM_ASSIGN_OR_RETURN(f.step_latency_us,
                          r.Number("step_latency_us", NumberRule::Between(0, 1e6)));
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* curve, r.Array("protocol_efficiency_vs_bytes"));
  MOESIM_ASSIGN_OR_RETURN(
      f.protocol_efficiency,
      EfficiencyCurve::Parse(*curve, where.Key("protocol_efficiency_vs_bytes")));
  MOESIM_ASSIGN_OR_RETURN(f.copy_efficiency_to_host,
                          r.NumberOr("copy_efficiency_to_host", 0, NumberRule::Between(0, 1)));
  MOESIM_ASSIGN_OR_RETURN(f.copy_efficiency_from_host,
                          r.NumberOr("copy_efficiency_from_host", 0, NumberRule::Between(0, 1)));
  MOESIM_ASSIGN_OR_RETURN(f.bulk_write_efficiency,
                          r.NumberOr("bulk_write_efficiency", 0, NumberRule::Between(0, 1)));
  MOESIM_ASSIGN_OR_RETURN(int64_t links,
                          r.IntegerOr("links_per_gpu", 0, NumberRule::Between(0, 1024)));
  f.links_per_gpu = static_cast<int>(links);
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return f;
}

nlohmann::json FabricSpecToJson(const FabricSpec& f) {
  nlohmann::json j = {{"description", f.description},
                      {"gb_per_s", f.gb_per_s},
                      {"latency_us", f.latency_us},
                      {"step_latency_us", f.step_latency_us},
                      {"protocol_efficiency_vs_bytes", f.protocol_efficiency.ToJson()}};
  if (f.copy_efficiency_to_host > 0) j["copy_efficiency_to_host"] = f.copy_efficiency_to_host;
  if (f.copy_efficiency_from_host > 0) {
    j["copy_efficiency_from_host"] = f.copy_efficiency_from_host;
  }
  if (f.bulk_write_efficiency > 0) j["bulk_write_efficiency"] = f.bulk_write_efficiency;
  if (f.links_per_gpu > 0) j["links_per_gpu"] = f.links_per_gpu;
  return j;
}

}  // namespace moesim
