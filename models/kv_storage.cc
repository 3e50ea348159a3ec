#include "models/kv_storage.h"

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

absl::StatusOr<KvStorageSpec> ParseKvStorageSpec(const nlohmann::json& value,
                                                 const JsonLocation& where,
                                                 const std::string& name) {
  KvStorageSpec s;
  s.name = name;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(s.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(int64_t drives, r.Integer("drives", NumberRule::Between(1, 64)));
  s.drives = static_cast<int>(drives);
  // Bounds catch typos: 1 PB per drive, 100 GB/s per drive are far above any NVMe drive.
  MOESIM_ASSIGN_OR_RETURN(s.capacity_gb_per_drive,
                          r.Number("capacity_gb_per_drive", NumberRule::Between(1, 1e6)));
  MOESIM_ASSIGN_OR_RETURN(s.read_gb_s_per_drive,
                          r.Number("read_gb_s_per_drive", NumberRule::Between(0.01, 100)));
  MOESIM_ASSIGN_OR_RETURN(s.write_gb_s_per_drive,
                          r.Number("write_gb_s_per_drive", NumberRule::Between(0.01, 100)));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return s;
}

nlohmann::json KvStorageSpecToJson(const KvStorageSpec& s) {
  return {{"description", s.description},
          {"drives", s.drives},
          {"capacity_gb_per_drive", s.capacity_gb_per_drive},
          {"read_gb_s_per_drive", s.read_gb_s_per_drive},
          {"write_gb_s_per_drive", s.write_gb_s_per_drive}};
}

}  // namespace moesim
