#include "topology/deepep_normal_pattern.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"

namespace moesim {

absl::StatusOr<DeepEpNormalPattern> DeepEpNormalPattern::Make(const ClusterGraph& graph,
                                                              std::vector<int> gpus) {
  DeepEpNormalPattern p;
  const int n = static_cast<int>(gpus.size());
  std::map<int, int> dense;             // global server -> dense index
  std::vector<std::vector<int>> ranks;  // per dense server: its ranks in order
  for (int r = 0; r < n; ++r) {
    if (gpus[r] < 0 || gpus[r] >= graph.gpu_count()) {
      return absl::InvalidArgumentError("DeepEP normal pattern over a GPU outside the cluster");
    }
    const int server = graph.devices()[graph.Gpu(gpus[r])].server;
    auto [it, added] = dense.emplace(server, static_cast<int>(ranks.size()));
    if (added) ranks.emplace_back();
    p.node_of_rank_.push_back(it->second);
    p.local_rank_.push_back(static_cast<int>(ranks[it->second].size()));
    ranks[it->second].push_back(r);
  }
  p.servers_ = static_cast<int>(ranks.size());
  const size_t per_server = ranks.empty() ? 0 : ranks[0].size();
  for (const auto& on_server : ranks) {
    if (on_server.size() != per_server) {
      return absl::InvalidArgumentError(absl::StrCat(
          "DeepEP normal kernels need the same number of expert-parallel ranks on every server "
          "(rail-aligned forwarding); this group has ",
          per_server, " on one server and ", on_server.size(), " on another"));
    }
  }
  std::vector<Transfer> rail, nvlink;
  for (int s = 0; s < n; ++s) {
    for (int server = 0; server < p.servers_; ++server) {
      const int peer = ranks[server][p.local_rank_[s]];
      if (server != p.node_of_rank_[s]) rail.push_back({gpus[s], gpus[peer], 1.0});
    }
    for (int d : ranks[p.node_of_rank_[s]]) {
      if (d != s) nvlink.push_back({gpus[s], gpus[d], 1.0});
    }
  }
  if (!rail.empty()) {
    auto c = CollectivePattern::Custom(graph, gpus, std::move(rail), 1);
    if (!c.ok()) return c.status();
    p.rail_ = std::make_unique<CollectivePattern>(std::move(*c));
  }
  if (!nvlink.empty()) {
    auto c = CollectivePattern::Custom(graph, gpus, std::move(nvlink), 1);
    if (!c.ok()) return c.status();
    p.nvlink_ = std::make_unique<CollectivePattern>(std::move(*c));
  }
  p.gpus_ = std::move(gpus);
  return p;
}

DeepEpNormalPattern::PhaseWeights DeepEpNormalPattern::Weights(const Load& load,
                                                               double bytes_per_token,
                                                               bool combine) const {
  const size_t n = gpus_.size();
  PhaseWeights w;
  double max_tokens = 0;
  for (double t : load.tokens) max_tokens = std::max(max_tokens, t);
  w.message = max_tokens * bytes_per_token;
  if (max_tokens <= 0) return w;
  // Tokens of each rail (local rank) summed over the servers: what its forwarders relay.
  std::vector<double> rail_tokens(n, 0.0);
  for (size_t r = 0; r < n; ++r) rail_tokens[local_rank_[r]] += load.tokens[r];
  std::vector<double> tokens(n), node_hit(n), relayed(n), rank_hit(n);
  for (size_t r = 0; r < n; ++r) {
    tokens[r] = load.tokens[r] / max_tokens;
    node_hit[r] = load.node_hit[node_of_rank_[r]];
    relayed[r] = rail_tokens[local_rank_[r]] / max_tokens;
    rank_hit[r] = load.rank_hit[r];
  }
  // payload = share (1) × message × src weight × dst weight.
  w.rail = combine ? CollectivePattern::Weights{node_hit, tokens}
                   : CollectivePattern::Weights{tokens, node_hit};
  w.nvlink = combine ? CollectivePattern::Weights{rank_hit, relayed}
                     : CollectivePattern::Weights{relayed, rank_hit};
  return w;
}

CollectiveCost DeepEpNormalPattern::Estimate(const Load& load, double bytes_per_token, bool combine,
                                             double floor_us) const {
  const PhaseWeights w = Weights(load, bytes_per_token, combine);
  if (w.message <= 0) return CollectiveCost();
  // Both phases' transfers run at once: the slower link-load bound, plus the longest route
  // latency of either (as a SimGrid parallel task of the union would take).
  CollectiveCost out;
  double bound = 0, route_latency = 0;
  bool first = true;
  for (const auto& [pattern, weights] :
       {std::make_pair(rail_.get(), &w.rail), std::make_pair(nvlink_.get(), &w.nvlink)}) {
    if (pattern == nullptr) continue;
    const CollectiveCost c = pattern->Estimate(w.message, floor_us, *weights);
    for (int t = 0; t < kLinkTierCount; ++t) out.tier_bytes[t] += c.tier_bytes[t];
    const double phase_bound = c.transfer_s - pattern->max_route_latency_s();
    if (first || phase_bound > bound) {
      bound = phase_bound;
      out.bottleneck_tier = c.bottleneck_tier;
    }
    out.latency_s = std::max(out.latency_s, c.latency_s);
    route_latency = std::max(route_latency, pattern->max_route_latency_s());
    first = false;
  }
  out.transfer_s = bound + route_latency;
  out.seconds = out.latency_s + out.transfer_s;
  return out;
}

std::vector<Transfer> DeepEpNormalPattern::WireTransfers(const Load& load, double bytes_per_token,
                                                         bool combine) const {
  const PhaseWeights w = Weights(load, bytes_per_token, combine);
  std::vector<Transfer> out;
  if (w.message <= 0) return out;
  if (rail_) out = rail_->WireTransfers(w.message, w.rail);
  if (nvlink_) {
    for (const Transfer& t : nvlink_->WireTransfers(w.message, w.nvlink)) out.push_back(t);
  }
  return out;
}

std::vector<Transfer> DeepEpNormalPattern::Pairs() const {
  std::vector<Transfer> out;
  for (const CollectivePattern* p : {rail_.get(), nvlink_.get()}) {
    if (p == nullptr) continue;
    for (const Transfer& t : p->WireTransfers(1.0)) out.push_back(t);
  }
  return out;
}

std::vector<int> DeepEpNormalPattern::LinkDirections() const {
  std::vector<int> dirs;
  for (const CollectivePattern* p : {rail_.get(), nvlink_.get()}) {
    if (p == nullptr) continue;
    for (int d : p->LinkDirections()) dirs.push_back(d);
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  return dirs;
}

}  // namespace moesim
