// Per-step routing samples turned into the load of each MoE layer's busiest GPU.
//
// Each step, every MoE layer's tokens are routed by the scenario's routing model (per expert or
// per token, RoutingSpec::sampler)
// (models/expert_routing); the layer's experts live where the deployment's expert placement put
// them (models/expert_placement: one placement per layer, built from that layer's expected
// load, as EPLB rebalances per layer); an expert's tokens split evenly over its replicas. The
// busiest GPU's (token, expert) pairs and distinct experts size the layer's grouped GEMMs, so
// stragglers set the MoE time. Under expert tensor-parallelism (ep = 1) every GPU holds a slice
// of every expert: all are equally loaded and only the number of distinct experts matters.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/scenario.h"
#include "models/expert_hits.h"
#include "models/expert_placement.h"
#include "models/expert_routing.h"

namespace moesim {

class MoeLoadSampler {
 public:
  // Fails when the routing model or the placement does not fit the model and plan.
  static absl::StatusOr<std::unique_ptr<MoeLoadSampler>> Make(const PoolContext& s, uint64_t seed);

  // Samples every MoE layer for `tokens` tokens; returns the mean over layers of the GPU load
  // imbalance (busiest / mean). `per_gpu`, when given, receives every GPU's load per layer
  // ([layer][gpu]: its (token, expert) pairs and the distinct expert replicas it runs).
  absl::StatusOr<double> Sample(int64_t tokens, std::vector<MoeLayerLoad>* loads,
                                std::vector<std::vector<MoeLayerLoad>>* per_gpu = nullptr);

  // Fault injection: GPUs (positions in the group) with dead[g] != 0 hold no replica any more;
  // each expert's tokens split over its replicas left. Returns false, and keeps the placement it
  // had, when some expert would have no replica left. All zeros restores the placement.
  bool SetDeadGpus(const std::vector<char>& dead);

  // Per MoE layer, how often a token reaches each GPU and each server of an EP group (DeepEP
  // normal kernels' de-duplicated traffic, models/expert_hits.h): `tokens` tokens per layer
  // routed exactly by a router of its own with the scenario's routing model (expected uniform
  // routing when the scenario has none) and `seed`, so the hot experts are those of the
  // simulation's sampler made with the same seed, whose draws stay untouched. Placement as in
  // Make(). `node_of_rank`: the server (dense index) of each of the ep ranks.
  static absl::StatusOr<std::vector<ExpertHitRates>> HitRates(const PoolContext& s, uint64_t seed,
                                                              const std::vector<int>& node_of_rank,
                                                              int64_t tokens);

 private:
  // One placement per MoE layer from the router's expected shares.
  static absl::StatusOr<std::vector<ExpertPlacement>> Placements(const PoolContext& s,
                                                                 ExpertRouter& router);

  MoeLoadSampler(ExpertRouter router, std::vector<ExpertPlacement> placements, int ep, int top_k,
                 bool per_token)
      : router_(std::move(router)),
        placements_(std::move(placements)),
        ep_(ep),
        top_k_(top_k),
        per_token_(per_token) {}

  ExpertRouter router_;
  std::vector<ExpertPlacement> placements_;  // per MoE layer (GPUs that failed taken out)
  std::vector<ExpertPlacement> healthy_;     // per MoE layer, as placed (empty until a failure)
  std::vector<char> dead_;                   // per GPU (empty: none)
  int ep_;
  int top_k_;
  bool per_token_;  // exact per-token routing (RoutingSpec::Sampler::kPerToken)

  std::vector<int64_t> counts_;
};

}  // namespace moesim
