// De-duplicated expert traffic: how often a token reaches a GPU, or a server, at least once.
//
// DeepEP's normal (high-throughput) kernels send a token once to every GPU that holds at least
// one of its top-k experts (not once per expert), and across servers once per server: the
// token crosses RDMA to the GPU of the same local rank on that server, which forwards it over
// NVLink to the server's GPUs that need it (calibration.md §3.1, DeepEP V1 normal kernels;
// DeepEP tests/legacy/test_internode.py counts its "RDMA bytes" as (token, server) pairs and its
// "NVL bytes" as (token, GPU) pairs). The traffic therefore depends on the probability that a
// token hits a GPU or a server, which top-k routing without replacement, group-limited routing
// (DeepSeek-V3: at most topk_group of n_group groups) and the placement make far from the
// independent-copies formula 1 − (1 − p)^k.
//
// EstimateHitRates routes `tokens` tokens of one MoE layer exactly (ExpertRouter::SampleTokens)
// and counts the hits: a Monte-Carlo estimate whose standard error is at most
// 0.5 / sqrt(tokens) per rate. A replicated expert's copies go to its replicas in turn (token t
// to replica t mod replicas), the even split the placement assumes.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/expert_placement.h"
#include "models/expert_routing.h"

namespace moesim {

struct ExpertHitRates {
  std::vector<double> rank_hit;     // per EP rank: P(a token has >= 1 expert copy on it)
  std::vector<double> rank_copies;  // per EP rank: expected expert copies per token (sum top_k)
  std::vector<double> node_hit;     // per server: P(a token has >= 1 copy on the server)
  double RanksPerToken() const;     // Σ rank_hit: distinct GPUs a token reaches
  double NodesPerToken() const;     // Σ node_hit: distinct servers a token reaches
};

// `node_of_rank[r]`: the server (0-based, dense) of EP rank r; placement.ep ranks. Consumes
// draws from `router`'s stream for `layer` (use a router of its own to leave a simulation's
// samples unchanged).
absl::StatusOr<ExpertHitRates> EstimateHitRates(ExpertRouter* router, int layer,
                                                const ExpertPlacement& placement,
                                                const std::vector<int>& node_of_rank,
                                                int64_t tokens);

}  // namespace moesim
