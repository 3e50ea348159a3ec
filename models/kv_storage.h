// A server's local NVMe SSDs as the lowest KV tier (the "ssd" of a "kv_hierarchy" section,
// models/kv_hierarchy.h). Values come from the presets in models/presets/kv_storage.json (a
// server's drive set, each number with its source) with scenario overrides:
//
//   "ssd": "dgx-h100-local-nvme"                      // a preset
//   "ssd": {"preset": "dgx-h100-local-nvme", "drives": 4}
//
// The drives of a server act as one device (RAID 0 / striped, as GPUDirect Storage and KV
// stores use them): its read and write bandwidths are the drives' sequential bandwidths summed,
// shared by every GPU of the server.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

struct KvStorageSpec {
  std::string name;
  std::string description;
  int drives = 0;                    // data drives per server
  double capacity_gb_per_drive = 0;  // 1e9 bytes
  double read_gb_s_per_drive = 0;    // sequential read, 1e9 bytes/s
  double write_gb_s_per_drive = 0;   // sequential write, 1e9 bytes/s

  double capacity_gb() const { return drives * capacity_gb_per_drive; }
  double ReadBytesPerSecond() const { return drives * read_gb_s_per_drive * 1e9; }
  double WriteBytesPerSecond() const { return drives * write_gb_s_per_drive * 1e9; }
};

absl::StatusOr<KvStorageSpec> ParseKvStorageSpec(const nlohmann::json& value,
                                                 const JsonLocation& where,
                                                 const std::string& name);
nlohmann::json KvStorageSpecToJson(const KvStorageSpec& storage);

}  // namespace moesim
