// Fast per-link loads of a collective whose per-pair payloads factor as
//
//   payload(s → d) = share_f × src_weight[s] × dst_weight[d]
//
// (share_f: the flow's fixed share of the message; the weights change per call, e.g. the tokens
// each rank dispatches and the fraction of expert copies each rank receives). Summing flow by
// flow costs O(flows × hops) per call — 65K flows × ~5 hops at EP 256 — which dominates a
// DP-attention simulation. Instead the index groups, once, the flows crossing each link direction
// by (source, fabric mask, share) and sources with identical destination lists together, so that
// a link's load is Σ over its groups of share × W(sources) × W(destinations). Node sets are
// interned and stored as their smaller side (a set or its complement), so on tree-like fabrics a
// call costs O(GPUs × depth) instead of O(GPUs²). The result equals the flow-by-flow sum up to
// floating-point rounding (tested in tests/topology/link_load_index_test.cc).
#pragma once

#include <cstdint>
#include <vector>

namespace moesim {

struct IndexedFlow {
  int src = 0;            // position of the source among the collective's GPUs
  int dst = 0;            // position of the destination
  int fabric_class = 0;   // e.g. index of the slowest fabric on the route (for efficiency)
  double share = 0;       // payload = share × src_weight × dst_weight
  std::vector<int> dirs;  // local link-direction indices the flow crosses
};

class LinkLoadIndex {
 public:
  LinkLoadIndex() = default;
  // `positions`: number of GPU positions; `dir_count`: number of local link directions.
  LinkLoadIndex(int positions, int dir_count, const std::vector<IndexedFlow>& flows);

  // Per link direction: payload (Σ payloads) and wire load (Σ payload × inv_efficiency of the
  // flow's fabric class). Empty weights mean all ones. Outputs are resized to dir_count.
  void Loads(const std::vector<double>& src_weight, const std::vector<double>& dst_weight,
             const std::vector<double>& inv_efficiency, std::vector<double>* payload,
             std::vector<double>* wire) const;

  int group_count() const { return static_cast<int>(groups_.size()); }

 private:
  struct NodeSet {
    bool complement = false;   // members lists the positions NOT in the set
    std::vector<int> members;  // sorted
  };
  struct Group {
    int dir = 0;
    int src_set = 0;  // into src_sets_
    int dst_set = 0;  // into dst_sets_
    int fabric_class = 0;
    double share = 0;
  };
  // Appends `members` (sorted) to `table` in its smaller form; returns its index.
  static int Intern(std::vector<NodeSet>* table, std::vector<int> members, int positions);
  static void SetSums(const std::vector<NodeSet>& sets, const std::vector<double>& weight,
                      int positions, std::vector<double>* sums);

  int positions_ = 0;
  int dir_count_ = 0;
  std::vector<NodeSet> src_sets_, dst_sets_;
  std::vector<Group> groups_;
  mutable std::vector<double> src_sums_, dst_sums_;  // scratch
};

}  // namespace moesim
