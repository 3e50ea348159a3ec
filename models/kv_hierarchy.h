// The KV memory hierarchy of a scenario (its "kv_hierarchy" section): prefix caching in HBM,
// a host-DRAM tier behind every GPU's host link (PCIe or Grace C2C, the cluster's "host"
// fabric), and what a preemption does with a sequence's KV.
//
//   "kv_hierarchy": {
//     "prefix_caching": true,           // block-level cache of full blocks, LRU eviction
//     "host_kv_gb_per_server": 1024,    // host DRAM a server gives to KV (0: no host tier)
//     "preemption": "swap",             // or "recompute" (the default)
//     "capacity_offload": false,        // cold blocks of running sequences live in host DRAM
//     "ssd_kv_gb_per_server": 15000,    // local NVMe a server gives to KV (0: no SSD tier)
//     "ssd": "dgx-h100-local-nvme"      // the drives (models/kv_storage.h), with overrides
//   }
//
// With a host tier, blocks the prefix cache evicts from HBM are written back to host DRAM
// (write-back on eviction) and a later hit there loads them back over the host link; with
// "swap", a preempted sequence's KV goes to host DRAM and comes back when it resumes, instead
// of being recomputed (a sequence that does not fit in the host tier's free space is recomputed).
// With "capacity_offload", when HBM runs out the oldest blocks of the longest-running sequences
// move to host DRAM instead of anyone being preempted, and every step that attends to them
// streams them back in over the host link (FlexGen-style; no mainstream serving stack does this
// by default): the running batch is then bounded by HBM + host DRAM, and the step by the link.
// With an SSD tier (it needs the host tier), cached blocks evicted from host DRAM are written
// to the server's SSDs (write-back on eviction, as TensorRT-LLM's disk tier by default), the
// oldest SSD blocks dropped when it is full; a prompt's blocks found only there are read from
// the SSDs into host memory before the step and then loaded like host hits.
#pragma once

#include <optional>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"
#include "models/kv_storage.h"

namespace moesim {

class PresetLibrary;

enum class KvPreemption { kRecompute, kSwap };
const char* KvPreemptionName(KvPreemption p);

struct KvHierarchySpec {
  bool prefix_caching = false;
  double host_kv_gb_per_server = 0;  // 1e9 bytes of host DRAM per server for KV
  KvPreemption preemption = KvPreemption::kRecompute;
  bool capacity_offload = false;
  double ssd_kv_gb_per_server = 0;   // 1e9 bytes of local SSD per server for KV
  std::optional<KvStorageSpec> ssd;  // the drives, when ssd_kv_gb_per_server > 0

  bool host_tier() const { return host_kv_gb_per_server > 0; }
  bool ssd_tier() const { return ssd_kv_gb_per_server > 0; }
  // Whether anything differs from HBM-only paging with recompute preemption.
  bool enabled() const { return prefix_caching || host_tier(); }
};

// `presets`: where "ssd" names its drives (models/presets/kv_storage.json).
absl::StatusOr<KvHierarchySpec> ParseKvHierarchySpec(const nlohmann::json& value,
                                                     const JsonLocation& where,
                                                     const PresetLibrary& presets);
nlohmann::json KvHierarchySpecToJson(const KvHierarchySpec& spec);

}  // namespace moesim
