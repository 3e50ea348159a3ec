// Expert placement: which of the `ep` expert-parallel GPUs hold which routed experts.
//
// Kinds (PlacementSpec::Kind):
//   contiguous   GPU g holds experts [g * E/ep, (g+1) * E/ep) (vLLM / SGLang default).
//   round_robin  expert e lives on GPU e % ep.
//   redundant    EPLB style (DeepSeek's expert-parallel load balancer): `redundant_slots` extra
//                expert slots in total, so every GPU holds (E + redundant_slots) / ep slots (must
//                divide evenly). Given an expected per-expert load, each extra slot goes to the
//                expert with the largest load per replica (at most one replica per GPU, so at
//                most ep replicas per expert); then the replicas, heaviest load-per-replica first,
//                each go to the least-loaded GPU that has a free slot and does not hold that
//                expert yet (longest-processing-time-first greedy). An expert's tokens are split
//                evenly over its replicas. In the rare case the greedy runs out of eligible GPUs
//                the replicas are re-packed, experts with most replicas first, onto the GPUs with
//                the most free slots (always feasible; balance may be slightly worse).
//                With `min_replicas` k > 1 every expert first gets k replicas (fault tolerance:
//                any k − 1 GPUs may fail), then the extra slots left go by load as above.
// contiguous and round_robin need ep to divide the expert count.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

struct PlacementSpec {
  enum class Kind { kContiguous, kRoundRobin, kRedundant };
  Kind kind = Kind::kContiguous;
  int redundant_slots = 0;  // kRedundant: extra slots over all GPUs, >= 0
  // kRedundant: replicas every expert gets before the extra slots left go by load (1: none
  // guaranteed; 2: every expert survives the loss of any one GPU — what an EP group needs to
  // go on after a GPU failure, "ep_group": "continue" in models/fault_spec.h). Needs
  // redundant_slots >= (min_replicas − 1) × experts.
  int min_replicas = 1;
};

// JSON: {"kind": "contiguous"}, {"kind": "round_robin"},
// {"kind": "redundant", "redundant_slots": 32}, {"kind": "redundant", "redundant_slots": 256,
// "min_replicas": 2}.
absl::StatusOr<PlacementSpec> ParsePlacementSpec(const nlohmann::json& value,
                                                 const JsonLocation& where);
nlohmann::json PlacementSpecToJson(const PlacementSpec& spec);

struct ExpertPlacement {
  int experts = 0;
  int ep = 0;
  // replicas[e]: the GPUs holding a replica of expert e (distinct, ascending, never empty).
  std::vector<std::vector<int>> replicas;
  // gpu_experts[g]: the experts GPU g holds, one per slot (distinct, ascending); every GPU holds
  // the same number of slots.
  std::vector<std::vector<int>> gpu_experts;

  int SlotsPerGpu() const { return gpu_experts.empty() ? 0 : int(gpu_experts[0].size()); }
};

// Places `experts` experts on `ep` GPUs. `expected_load` (per expert, >= 0, e.g. expected token
// counts or ExpertRouter::ExpectedShares) drives the redundant kind; all zero means uniform. It may
// be empty for contiguous / round_robin; when given it must have one entry per expert.
absl::StatusOr<ExpertPlacement> Place(const PlacementSpec& spec, int experts, int ep,
                                      const std::vector<double>& expected_load);

// Tokens each GPU processes when expert e's counts[e] tokens are split evenly over its replicas.
// `counts` has one entry per expert (entries past placement.experts are ignored, missing ones
// count as 0).
std::vector<double> GpuLoad(const ExpertPlacement& placement, const std::vector<int64_t>& counts);
// Same for fractional per-expert loads (expected loads or shares).
std::vector<double> ExpectedGpuLoad(const ExpertPlacement& placement,
                                    const std::vector<double>& load);

// max / mean of a load vector (1 = perfectly balanced); 1 for an empty or all-zero vector.
double Imbalance(const std::vector<double>& load);

}  // namespace moesim
