#include "models/expert_hits.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace moesim {

double ExpertHitRates::RanksPerToken() const {
  return std::accumulate(rank_hit.begin(), rank_hit.end(), 0.0);
}

double ExpertHitRates::NodesPerToken() const {
  return std::accumulate(node_hit.begin(), node_hit.end(), 0.0);
}

absl::StatusOr<ExpertHitRates> EstimateHitRates(ExpertRouter* router, int layer,
                                                const ExpertPlacement& placement,
                                                const std::vector<int>& node_of_rank,
                                                int64_t tokens) {
  const int ranks = placement.ep;
  if (static_cast<int>(node_of_rank.size()) != ranks || tokens <= 0 ||
      placement.experts != router->experts()) {
    return absl::InvalidArgumentError(absl::StrCat("EstimateHitRates: ", node_of_rank.size(),
                                                   " ranks mapped for ep ", ranks, ", ", tokens,
                                                   " tokens, placement of ", placement.experts,
                                                   " experts for a router of ", router->experts()));
  }
  int nodes = 0;
  for (int n : node_of_rank) {
    if (n < 0) return absl::InvalidArgumentError("EstimateHitRates: negative server index");
    nodes = std::max(nodes, n + 1);
  }
  std::vector<int32_t> picks;
  if (absl::Status st = router->SampleTokens(layer, tokens, &picks); !st.ok()) return st;
  const int k = router->top_k();
  ExpertHitRates out;
  out.rank_hit.assign(ranks, 0.0);
  out.rank_copies.assign(ranks, 0.0);
  out.node_hit.assign(nodes, 0.0);
  // Last token that hit each rank / server: counts each at most once per token.
  std::vector<int64_t> rank_seen(ranks, -1), node_seen(nodes, -1);
  for (int64_t t = 0; t < tokens; ++t) {
    for (int j = 0; j < k; ++j) {
      const std::vector<int>& replicas = placement.replicas[picks[t * k + j]];
      const int rank = replicas[static_cast<size_t>(t) % replicas.size()];
      out.rank_copies[rank] += 1.0;
      if (rank_seen[rank] != t) {
        rank_seen[rank] = t;
        out.rank_hit[rank] += 1.0;
      }
      const int node = node_of_rank[rank];
      if (node_seen[node] != t) {
        node_seen[node] = t;
        out.node_hit[node] += 1.0;
      }
    }
  }
  const double inv = 1.0 / double(tokens);
  for (auto* v : {&out.rank_hit, &out.rank_copies, &out.node_hit}) {
    for (double& x : *v) x *= inv;
  }
  return out;
}

}  // namespace moesim
