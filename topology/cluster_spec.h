// The shape of a cluster: racks × servers × GPUs, the scale-up domain (a server's NVSwitch or a
// whole NVL72 rack), NICs per server (rail-optimised: one per GPU; fewer: GPUs share NICs),
// the leaf uplink oversubscription and the fabric of every link class.
//
// Parsed from the scenario's "hardware" object (beside "gpu"):
//   "gpus_per_server": 8, "servers_per_rack": 4, "racks": 2,
//   "scaleup_domain": "server" | "rack",        (default: the GPU preset's scaleup_scope:
//                                                 "rack" for NVL72 systems, else "server")
//   "nics_per_server": 8, "leaf_oversubscription": 2.0, "spine_switches": 4,
//   "fabrics": {"scaleup": "nvlink4", "scaleout": "ib-ndr-400", "interrack": "ib-ndr-400",
//               "host": "pcie5-x16"}            (defaults: the GPU preset's fabrics; interrack =
//                                                 scaleout)
// Any fabric may be replaced ("400GbE everywhere": scaleup and scaleout "roce-400").
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/fabric_spec.h"
#include "models/gpu_spec.h"
#include "models/json_reader.h"
#include "models/preset_library.h"

namespace moesim {

enum class ScaleUpDomain { kServer, kRack };

struct ClusterSpec {
  int gpus_per_server = 1;
  int servers_per_rack = 1;
  int racks = 1;
  ScaleUpDomain scaleup_domain = ScaleUpDomain::kServer;
  int nics_per_server = 1;
  double leaf_oversubscription = 1.0;  // NIC bandwidth below a leaf / its uplink bandwidth
  // Spine switches above the leaves; each rack's uplink ports are spread evenly over them (a
  // leaf-spine fabric), so one spine carries 1 / spine_switches of every rack's uplink. Only
  // faults see them (the spine is otherwise one logical switch).
  int spine_switches = 1;
  FabricSpec scaleup;
  FabricSpec scaleout;
  FabricSpec interrack;
  FabricSpec host;

  int gpus_per_rack() const { return gpus_per_server * servers_per_rack; }
  int servers() const { return servers_per_rack * racks; }
  int total_gpus() const { return gpus_per_rack() * racks; }
  // A rack's ports to the spine (one interrack port per NIC below the leaf, divided by the
  // oversubscription; may be fractional): its uplink's bandwidth in interrack port speeds.
  double uplink_ports() const {
    return double(servers_per_rack) * nics_per_server / leaf_oversubscription;
  }
  // Whether `ports_down` of a rack's uplink ports leave it none (the count may be fractional:
  // the last port is whatever is left; 1e-9 absorbs the division's rounding).
  bool UplinkCutOff(double ports_down) const { return ports_down >= uplink_ports() - 1e-9; }
  // A rack's uplink ports that reach one spine switch.
  double uplink_ports_per_spine() const { return uplink_ports() / spine_switches; }
  int scaleup_domain_gpus() const {
    return scaleup_domain == ScaleUpDomain::kRack ? gpus_per_rack() : gpus_per_server;
  }
};

// Reads the cluster keys of `hardware` (everything except "gpu", which the caller reads).
absl::StatusOr<ClusterSpec> ParseClusterSpec(JsonObjectReader& hardware, const GpuSpec& gpu,
                                             const PresetLibrary& presets);
nlohmann::json ClusterSpecToJson(const ClusterSpec& cluster);

}  // namespace moesim
