#include "models/kv_hierarchy.h"

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

const char* KvPreemptionName(KvPreemption p) {
  return p == KvPreemption::kSwap ? "swap" : "recompute";
}

absl::StatusOr<KvHierarchySpec> ParseKvHierarchySpec(const nlohmann::json& value,
                                                     const JsonLocation& where) {
  KvHierarchySpec s;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(s.prefix_caching, r.BoolOr("prefix_caching", false));
  // 1 PB per server bounds typos, far above any server's DRAM.
  MOESIM_ASSIGN_OR_RETURN(s.host_kv_gb_per_server,
                          r.NumberOr("host_kv_gb_per_server", 0, NumberRule::Between(0, 1e6)));
  MOESIM_ASSIGN_OR_RETURN(std::string preemption,
                          r.EnumOr("preemption", "recompute", {"recompute", "swap"}));
  s.preemption = preemption == "swap" ? KvPreemption::kSwap : KvPreemption::kRecompute;
  MOESIM_ASSIGN_OR_RETURN(s.capacity_offload, r.BoolOr("capacity_offload", false));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  if (s.capacity_offload && !s.host_tier()) {
    return BadValue(where.Key("capacity_offload"), true,
                    "false, or a host tier to offload to (\"host_kv_gb_per_server\" > 0)");
  }
  if (s.capacity_offload && s.prefix_caching) {
    return BadValue(where.Key("capacity_offload"), true,
                    "false with \"prefix_caching\": true (offloaded blocks of cached "
                    "prefixes are not simulated yet)");
  }
  if (s.preemption == KvPreemption::kSwap && !s.host_tier()) {
    return BadValue(where.Key("preemption"), preemption,
                    "\"recompute\", or a host tier to swap to (\"host_kv_gb_per_server\" > 0)");
  }
  if (!s.enabled()) {
    return BadInput(where,
                    "sets nothing: give \"prefix_caching\": true and/or "
                    "\"host_kv_gb_per_server\" > 0, or leave the section out");
  }
  return s;
}

nlohmann::json KvHierarchySpecToJson(const KvHierarchySpec& s) {
  return {{"prefix_caching", s.prefix_caching},
          {"host_kv_gb_per_server", s.host_kv_gb_per_server},
          {"preemption", KvPreemptionName(s.preemption)},
          {"capacity_offload", s.capacity_offload}};
}

}  // namespace moesim
