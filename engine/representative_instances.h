// Simulating a representative set of a plan's instances instead of all of them: a labelled
// shortcut for sweeps (engine/sweep.h), measured against simulating every instance in
// tests/engine/representative_instances_test.cc.
//
// A plan of one serve pool whose instances cannot interact — no SimGrid activity of one can
// share a link with another's, because collectives are analytic (or the step fidelity costs
// them in closed form), and nothing else moves between instances — differs between instances
// only by the requests the router hands each. With g = gcd(clients, instances), k = instances / g
// instances given clients / g closed-loop clients see the same load per instance as the whole
// plan under least-loaded routing (each freed client's next request goes to the instance it
// left); under Poisson arrivals one instance gets rate / instances (Poisson splitting: exact for
// random routing, close for least-loaded). Per-GPU throughput, latency percentiles, batch and
// KV figures carry over; totals scale by instances / k.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/scenario.h"

namespace moesim {

struct RepresentativeSet {
  int instances = 0;            // of the plan
  int simulated_instances = 0;  // k
  nlohmann::json document;      // the scenario document with k instances and the load of k
};

// For `scenario` (parsed from `document`): the reduced document when the plan qualifies and
// k < instances; nullopt otherwise (several pools, collectives on SimGrid between servers,
// faults (they hit some instances only), a load that does not split evenly, or nothing to
// save).
std::optional<RepresentativeSet> RepresentativeInstances(const Scenario& scenario,
                                                         const nlohmann::json& document);

}  // namespace moesim
