// A scenario's "faults" section: hardware that goes down at a simulated time and, optionally,
// comes back (engine/fault_injection.h simulates it).
//
//   "faults": [
//     {"at_s": 40, "kind": "gpu", "gpu": 11, "recover_after_s": 30},
//     {"at_s": 60, "kind": "server", "server": 3},
//     {"at_s": 80, "kind": "nic", "gpu": 40},
//     {"at_s": 90, "kind": "link", "rack": 1, "ports": 4, "recover_after_s": 20},
//     {"at_s": 92, "kind": "link", "gpu": 5, "ports": 9},
//     {"at_s": 95, "kind": "switch", "leaf": 2},
//     {"at_s": 99, "kind": "switch", "spine": 1}
//   ]
//
// kind "gpu": one GPU (global index) fails; every instance that runs on it stops. "server": all
// GPUs of one server (global index) fail. "nic": the scale-out NIC of one GPU (global index;
// one NIC per GPU, rail-aligned) fails; an instance that runs on that GPU and spans more than
// one server loses its collectives and stops, one inside a server (NVLink only) keeps running.
// `recover_after_s`: the instance restarts this long after the failure (its replacement,
// restart and weight reload, as the user measures them), empty; absent: it stays down.
// "link": `ports` (default 1) of rack `rack`'s uplink ports to the spine fail (the rack's
// uplink aggregates its ports, topology/cluster_graph.h); traffic moves to the ports left (ECMP
// routes around the dead ones), so the uplink's capacity drops by that share and every
// collective crossing it slows; with every port down the rack is cut off and the instances that
// span it and another rack stop. "switch": rack `leaf`'s leaf switch fails: its servers lose the
// scale-out fabric, and every instance with a GPU in the rack that spans scale-up domains stops.
// With `recover_after_s` the hardware comes back (capacity restored, instances restart).
// "link" with "gpu" instead of "rack": `ports` (default 1) of that GPU's scale-up links fail
// (NVLink links to the NVSwitches, xGMI links to its peers; fewer than the fabric preset's
// links_per_gpu): its scale-up bandwidth drops to the share left, both directions, and every
// collective and transfer it takes part in over NVLink slows (a GPU with none left is a "gpu"
// fault). Nothing stops.
// "switch" with "spine": spine switch `spine` (of hardware.spine_switches, over which every
// rack's uplink ports are spread evenly) fails: every rack's uplink loses the ports that reach
// it, 1 / spine_switches of its capacity, as a partial "link" fault on every rack at once; with
// a single spine switch that is the whole uplink, and every instance spanning racks stops.
// "ep_group": "continue" (gpu, server, nic): a DP-attention EP group that loses ranks goes on
// with the rest when each expert has a replica left on them (EPLB redundant slots): the lost
// ranks' requests move, their experts' tokens go to the other replicas; otherwise it stops.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

enum class FaultKind { kGpu, kServer, kNic, kLink, kScaleUpLink, kLeafSwitch, kSpineSwitch };
const char* FaultKindName(FaultKind k);
// The key that names a fault's target: "gpu", "server", "rack" (link), "gpu" (link: scale-up
// ports), "leaf" or "spine" (switch).
const char* FaultTargetKey(FaultKind k);

struct FaultSpec {
  double at_s = 0;
  FaultKind kind = FaultKind::kGpu;
  int64_t target = 0;  // a GPU (gpu, nic, scale-up link), a server, a rack (link, leaf switch)
                       // or a spine
  int64_t ports = 0;   // link: uplink ports (or the GPU's scale-up links) down
  // gpu, server, nic: "ep_group": "continue" — a DP-attention EP group that loses GPUs goes on
  // with the others when every expert keeps a replica there (redundant slots); "stop"
  // (default) — it stops like any instance.
  bool ep_group_continue = false;
  std::optional<double> recover_after_s;
};

// Parses the array (indices are checked against the cluster by the scenario).
absl::StatusOr<std::vector<FaultSpec>> ParseFaults(const nlohmann::json& value,
                                                   const JsonLocation& where);
nlohmann::json FaultsToJson(const std::vector<FaultSpec>& faults);

}  // namespace moesim
