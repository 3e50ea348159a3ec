// A scenario's "faults" section: hardware that goes down at a simulated time and, optionally,
// comes back (engine/fault_injection.h simulates it).
//
//   "faults": [
//     {"at_s": 40, "kind": "gpu", "gpu": 11, "recover_after_s": 30},
//     {"at_s": 60, "kind": "server", "server": 3},
//     {"at_s": 80, "kind": "nic", "gpu": 40}
//   ]
//
// kind "gpu": one GPU (global index) fails; every instance that runs on it stops. "server": all
// GPUs of one server (global index) fail. "nic": the scale-out NIC of one GPU (global index;
// one NIC per GPU, rail-aligned) fails; an instance that runs on that GPU and spans more than
// one server loses its collectives and stops, one inside a server (NVLink only) keeps running.
// `recover_after_s`: the instance restarts this long after the failure (its replacement,
// restart and weight reload, as the user measures them), empty; absent: it stays down.
// Links and switches are not modelled as failing yet (a kind "link" or "switch" is refused).
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

enum class FaultKind { kGpu, kServer, kNic };
const char* FaultKindName(FaultKind k);

struct FaultSpec {
  double at_s = 0;
  FaultKind kind = FaultKind::kGpu;
  int64_t target = 0;  // a GPU (gpu, nic) or a server (server), global index
  std::optional<double> recover_after_s;
};

// Parses the array (indices are checked against the cluster by the scenario).
absl::StatusOr<std::vector<FaultSpec>> ParseFaults(const nlohmann::json& value,
                                                   const JsonLocation& where);
nlohmann::json FaultsToJson(const std::vector<FaultSpec>& faults);

}  // namespace moesim
