// The traffic of one collective over a group of GPUs, with its routes resolved once, and its
// analytic cost: the link-load bound over the routed traffic plus the collective's latency.
//
//   cost = launch + step_latency × steps + max over link directions (wire bytes / bandwidth)
//          + longest route latency
//   wire bytes of a transfer = payload / protocol_efficiency(message bytes) of the slowest
//          fabric on its route (NCCL-like protocols reach a size-dependent fraction of line rate)
//
// Patterns:
//  * ring all-reduce, one shot per GPU: inside one server, rank i sends 2(n−1)/n × S to rank
//    i+1 (steps 2(n−1)); over several servers with g GPUs each, NCCL-like hierarchical rings:
//    a ring inside each server (2(g−1)/g × S per GPU) plus one ring per local rank across the
//    m servers over its 1/g shard (2(m−1)/m × S/g on that GPU's NIC); steps 2(g−1) + 2(m−1);
//  * one-shot all-reduce (vLLM / SGLang / TensorRT-LLM custom all-reduce for small messages
//    inside an NVLink domain): every GPU reads the whole message of every peer; steps = 1;
//  * two-shot all-reduce (the same kernels for larger messages): reduce-scatter then
//    all-gather over direct peer links, 2 S / n per ordered pair; steps = 2;
//  * all-to-all: every ordered pair exchanges S / n; steps = 1;
//  * send: one transfer of S between two GPUs (pipeline stages); steps = 1.
// The same wire transfers are what the SimGrid paths (engine/collective_runner.h) send, so on an
// idle fabric the analytic cost and the simulated one agree.
#pragma once

#include <array>
#include <vector>

#include "absl/status/statusor.h"
#include "topology/cluster_graph.h"
#include "topology/link_load_index.h"

namespace moesim {

struct CollectiveCost {
  double seconds = 0;     // total
  double latency_s = 0;   // launch + steps × step latency (not the route latency)
  double transfer_s = 0;  // link-load bound incl. the longest route latency
  LinkTier bottleneck_tier = LinkTier::kScaleUp;
  std::array<double, kLinkTierCount> tier_bytes{};  // payload bytes × links crossed, per tier
};

class CollectivePattern {
 public:
  enum class Kind {
    kRingAllReduce,
    kRingAllGather,
    kOneShotAllReduce,
    kTwoShotAllReduce,
    kAllToAll,
    kSend
  };

  static absl::StatusOr<CollectivePattern> RingAllReduce(const ClusterGraph& graph,
                                                         std::vector<int> gpus);
  // NCCL's ring all-gather of a `message_bytes` buffer (each GPU contributes 1/n of it): half a
  // ring all-reduce, (n-1)/n of the message per GPU in n-1 steps (hierarchical across servers as
  // the all-reduce). A reduce-scatter moves the same bytes in the same steps.
  static absl::StatusOr<CollectivePattern> RingAllGather(const ClusterGraph& graph,
                                                         std::vector<int> gpus);
  static absl::StatusOr<CollectivePattern> OneShotAllReduce(const ClusterGraph& graph,
                                                            std::vector<int> gpus);
  static absl::StatusOr<CollectivePattern> TwoShotAllReduce(const ClusterGraph& graph,
                                                            std::vector<int> gpus);
  static absl::StatusOr<CollectivePattern> AllToAll(const ClusterGraph& graph,
                                                    std::vector<int> gpus);
  static absl::StatusOr<CollectivePattern> Send(const ClusterGraph& graph, int from_gpu,
                                                int to_gpu);
  // Any traffic: each transfer's bytes are its share of the message (payload = share × S).
  static absl::StatusOr<CollectivePattern> Custom(const ClusterGraph& graph, std::vector<int> gpus,
                                                  std::vector<Transfer> shares, int steps);

  Kind kind() const { return kind_; }
  const std::vector<int>& gpus() const { return gpus_; }
  int steps() const { return steps_; }
  // The graph's capacity_version(): estimates memoised under another version are stale (a
  // fault changed a link's capacity).
  uint64_t capacity_version() const;

  // Analytic cost of one collective with `message_bytes` per rank and a software launch cost.
  CollectiveCost Estimate(double message_bytes, double launch_us) const;
  // Per-GPU weights of a non-uniform collective (e.g. MoE dispatch under skewed routing): the
  // payload of a transfer src → dst is its share × message_bytes × src[p(src)] × dst[p(dst)],
  // p() being the GPU's position in gpus(). Empty vectors mean all ones. message_bytes still
  // sets the protocol efficiency (the largest rank's message).
  struct Weights {
    std::vector<double> src;
    std::vector<double> dst;
  };
  CollectiveCost Estimate(double message_bytes, double launch_us, const Weights& w) const;
  // The latency part alone (launch + steps × the slowest fabric's step latency).
  double LatencySeconds(double launch_us) const;
  // The longest route's latency (included in CollectiveCost::transfer_s).
  double max_route_latency_s() const { return max_route_latency_s_; }

  // The transfers as they go on the wire (payload inflated by protocol efficiency).
  std::vector<Transfer> WireTransfers(double message_bytes, const Weights& w = {}) const;
  // Link directions (2·link + (up ? 0 : 1)) any transfer of the pattern crosses.
  std::vector<int> LinkDirections() const;
  // Whether every transfer stays on scale-up (NVLink / xGMI) links.
  bool ScaleUpOnly() const;

  // The transfers are one-sided bulk writes (RDMA writes of registered buffers, NVLink peer
  // copies: StepMesh's attention/FFN hops), not a collective's protocol: each fabric that gives
  // a bulk_write_efficiency (models/fabric_spec.h) carries them at that fraction of its line
  // rate whatever the message size (the others keep their protocol curve); the fabric where a
  // write is slowest, not the least efficient one, sets a route's pace; and there are no ring
  // steps to synchronise (the route's latency is all a write waits).
  void UseBulkWrites() { bulk_writes_ = true; }
  bool bulk_writes() const { return bulk_writes_; }

 private:
  struct Flow {
    int src = 0;
    int dst = 0;
    int src_pos = 0;  // positions in gpus_
    int dst_pos = 0;
    double share = 0;             // payload = share × message bytes
    std::vector<int> link_dirs;   // 2·link + (up ? 0 : 1)
    std::vector<int> local_dirs;  // the same, as indices into dirs_
    unsigned fabric_mask = 0;     // bit i: the route crosses fabrics_[i]
    double route_latency_s = 0;
  };
  static absl::StatusOr<CollectivePattern> Make(const ClusterGraph& graph, Kind kind,
                                                std::vector<int> gpus,
                                                std::vector<Transfer> unit_transfers, int steps);
  double WireBytes(const Flow& f, double message_bytes) const;
  // Protocol efficiency at `message_bytes` of every distinct fabric the pattern crosses (the
  // bulk-write efficiency where UseBulkWrites() and the fabric gives one).
  std::vector<double> Efficiencies(double message_bytes) const;
  double MinEfficiency(const Flow& f, const std::vector<double>& eff) const;
  // The efficiency of a route crossing the fabrics of `mask` (see UseBulkWrites).
  double RouteEfficiency(unsigned mask, const std::vector<double>& eff) const;

  const ClusterGraph* graph_ = nullptr;
  Kind kind_ = Kind::kSend;
  std::vector<int> gpus_;
  std::vector<Flow> flows_;
  std::vector<int> dirs_;                   // distinct link directions crossed
  std::vector<const FabricSpec*> fabrics_;  // distinct fabrics crossed (at most a few)
  LinkLoadIndex index_;                     // flows grouped per link direction (fast loads)

  int steps_ = 1;
  bool bulk_writes_ = false;
  double step_latency_s_ = 0;
  double max_route_latency_s_ = 0;
};

}  // namespace moesim
