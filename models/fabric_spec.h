// One class of link (NVLink4, IB NDR 400G, 400GbE, PCIe Gen5 x16, ...): its raw bandwidth,
// its per-hop latency and how collectives behave on it.
//
// Values come from fabric presets (models/presets/fabrics.json, calibration.md §1.2, §3 and
// calibration/tables_comm.md) with scenario overrides. The SimGrid link carries the raw
// per-direction bandwidth; protocol overhead of a collective is charged by inflating its bytes
// on the wire by 1 / protocol_efficiency(message bytes) (NCCL's LL/LL128/Simple protocols and
// chunking make small and mid-size messages reach a fraction of the line rate).
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/efficiency_curve.h"
#include "models/json_reader.h"

namespace moesim {

struct FabricSpec {
  std::string name;
  std::string description;
  double gb_per_s = 0;                  // raw bandwidth per direction, 1e9 B/s
  double latency_us = 0;                // one-way latency of one hop (GPU/NIC to switch)
  double step_latency_us = 0;           // added per ring step of a collective (synchronisation)
  EfficiencyCurve protocol_efficiency;  // achieved / raw bandwidth vs message bytes per rank
  // Host links (KV offload): achieved / raw bandwidth of a large pinned-memory copy, GPU to host
  // and host to GPU (nvbandwidth measurements, calibration.md §6); 0: not given.
  double copy_efficiency_to_host = 0;
  double copy_efficiency_from_host = 0;
  // GPU to GPU one-sided bulk writes (RDMA writes of registered buffers, NVLink peer copies) as
  // StepMesh's attention/FFN hops make them: achieved / raw bandwidth at large sizes, with no
  // collective protocol in between (topology/collective_pattern.h UseBulkWrites); 0: not given
  // (such transfers then use protocol_efficiency).
  double bulk_write_efficiency = 0;
  // Scale-up fabrics: the links (ports) each GPU has on it, which its bandwidth is the sum of
  // (NVLink links to the NVSwitches, xGMI links to the peers); a fault on some of them leaves
  // the rest (models/fault_spec.h). 0: not given.
  int links_per_gpu = 0;

  double BytesPerSecond() const { return gb_per_s * 1e9; }
};

absl::StatusOr<FabricSpec> ParseFabricSpec(const nlohmann::json& value, const JsonLocation& where,
                                           const std::string& name);
nlohmann::json FabricSpecToJson(const FabricSpec& fabric);

}  // namespace moesim
