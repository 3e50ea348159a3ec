#include "models/kv_hierarchy.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/preset_library.h"
#include "models/status_macros.h"

namespace moesim {

const char* KvPreemptionName(KvPreemption p) {
  return p == KvPreemption::kSwap ? "swap" : "recompute";
}

absl::StatusOr<KvHierarchySpec> ParseKvHierarchySpec(const nlohmann::json& value,
                                                     const JsonLocation& where,
                                                     const PresetLibrary& presets) {
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
  MOESIM_ASSIGN_OR_RETURN(s.ssd_kv_gb_per_server,
                          r.NumberOr("ssd_kv_gb_per_server", 0, NumberRule::Between(0, 1e6)));
  if (r.Has("ssd")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* raw, r.Value("ssd"));
    MOESIM_ASSIGN_OR_RETURN(PresetLibrary::Resolved drives,
                            presets.Resolve(PresetKind::kKvStorage, *raw, where.Key("ssd")));
    MOESIM_ASSIGN_OR_RETURN(s.ssd,
                            ParseKvStorageSpec(*drives.value, where.Key("ssd"), drives.name));
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  if (s.ssd_tier() && !s.ssd) {
    return BadValue(where.Key("ssd_kv_gb_per_server"), s.ssd_kv_gb_per_server,
                    absl::StrCat("0, or the server's drives named in \"ssd\" (",
                                 PresetFileName(PresetKind::kKvStorage), ")"));
  }
  if (s.ssd && !s.ssd_tier()) {
    return BadInput(where.Key("ssd"),
                    "is set but \"ssd_kv_gb_per_server\" is 0: give the SSD space a server "
                    "sets aside for KV, or leave \"ssd\" out");
  }
  if (s.ssd_tier() && !s.host_tier()) {
    return BadValue(where.Key("ssd_kv_gb_per_server"), s.ssd_kv_gb_per_server,
                    "0, or a host tier (\"host_kv_gb_per_server\" > 0): SSD blocks are staged "
                    "in host memory on their way to and from the GPUs");
  }
  if (s.ssd_tier() && !s.prefix_caching) {
    return BadValue(where.Key("ssd_kv_gb_per_server"), s.ssd_kv_gb_per_server,
                    "0, or \"prefix_caching\": true (the SSD tier holds cached prefixes; "
                    "swapped and offloaded sequences stay in host DRAM)");
  }
  if (s.ssd && s.ssd_kv_gb_per_server > s.ssd->capacity_gb()) {
    return BadValue(
        where.Key("ssd_kv_gb_per_server"), s.ssd_kv_gb_per_server,
        absl::StrCat("at most the drives' capacity, ", s.ssd->capacity_gb(), " GB (", s.ssd->drives,
                     " x ", s.ssd->capacity_gb_per_drive, " GB of \"", s.ssd->name, "\")"));
  }
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
  nlohmann::json j = {{"prefix_caching", s.prefix_caching},
                      {"host_kv_gb_per_server", s.host_kv_gb_per_server},
                      {"preemption", KvPreemptionName(s.preemption)},
                      {"capacity_offload", s.capacity_offload}};
  if (s.ssd_tier()) {
    j["ssd_kv_gb_per_server"] = s.ssd_kv_gb_per_server;
    j["ssd"] = KvStorageSpecToJson(*s.ssd);
  }
  return j;
}

}  // namespace moesim
