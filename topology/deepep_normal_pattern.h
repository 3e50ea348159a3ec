// DeepEP's normal (high-throughput) dispatch and combine over an expert-parallel group
// (calibration.md §3.1, DeepEP V1 normal kernels; DeepEP tests/legacy/test_internode.py):
//
//  * RDMA phase: rank s sends each token ONCE to every other server its experts reach, to the
//    GPU of the same local rank there (rail-aligned NICs):
//        payload s → peer(s, n) = t_s × node_hit[n] × bytes per token;
//  * NVLink phase: the GPU of local rank l on server n forwards to every GPU d of its server the
//    tokens of all the ranks of rail l (its own tokens included) that reach d, once per token:
//        payload f → d = (Σ over ranks s of rail l(f) of t_s) × rank_hit[d] × bytes per token.
//
// The kernels pipeline the two phases chunk by chunk, so the collective takes the slower
// phase's link-load bound (the phases use disjoint links: NICs and their PCIe paths vs NVLink)
// plus the kernel's fixed floor; at ptask / flows fidelity both phases' transfers run
// concurrently and SimGrid shares the links. The combine moves the same bytes backwards (each
// GPU returns its results to the forwarder, which reduces them and sends one vector per (token,
// server) back over RDMA), so it is the dispatch with sources and destinations swapped.
//
// Compared with the low-latency kernels (every expert copy straight to its GPU), a token crosses
// the NICs once per remote server instead of once per remote expert copy, at the price of an
// NVLink hop. One server: the RDMA phase is empty and the NVLink phase is DeepEP's intranode
// kernel (each token once per GPU that needs it).
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "topology/cluster_graph.h"
#include "topology/collective_pattern.h"

namespace moesim {

class DeepEpNormalPattern {
 public:
  // `gpus`: the group's global GPU indices (rank order). Every server of the group must hold
  // the same number of its ranks (rail alignment pairs local rank l with local rank l).
  static absl::StatusOr<DeepEpNormalPattern> Make(const ClusterGraph& graph, std::vector<int> gpus);

  // One step's traffic: tokens[r] dispatched by rank r, rank_hit[r] = P(a token reaches rank r),
  // node_hit[n] = P(a token reaches server n) (servers numbered as node_of_rank()).
  struct Load {
    std::vector<double> tokens;
    std::vector<double> rank_hit;
    std::vector<double> node_hit;
  };

  // Analytic cost: latency (floor_us + step latencies) + the slower phase's link-load bound;
  // tier bytes of both phases. `bytes_per_token`: one token's payload (fp8 dispatch with scales,
  // bf16 combine; models/moe_traffic.h).
  CollectiveCost Estimate(const Load& load, double bytes_per_token, bool combine,
                          double floor_us) const;
  // Both phases' wire transfers (for the SimGrid paths).
  std::vector<Transfer> WireTransfers(const Load& load, double bytes_per_token, bool combine) const;

  const std::vector<int>& gpus() const { return gpus_; }
  const std::vector<int>& node_of_rank() const { return node_of_rank_; }  // dense server ids
  int servers() const { return servers_; }
  // Every GPU pair either phase connects (for the SimGrid routes).
  std::vector<Transfer> Pairs() const;
  std::vector<int> LinkDirections() const;

 private:
  struct PhaseWeights {
    CollectivePattern::Weights rail, nvlink;
    double message = 0;  // largest rank's tokens × bytes per token (sets protocol efficiency)
  };
  PhaseWeights Weights(const Load& load, double bytes_per_token, bool combine) const;

  std::vector<int> gpus_;
  std::vector<int> node_of_rank_;
  std::vector<int> local_rank_;
  int servers_ = 0;
  std::unique_ptr<CollectivePattern> rail_;    // null with one server
  std::unique_ptr<CollectivePattern> nvlink_;  // null with one rank per server
};

}  // namespace moesim
