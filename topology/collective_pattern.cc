#include "topology/collective_pattern.h"

#include <algorithm>
#include <utility>

namespace moesim {

absl::StatusOr<CollectivePattern> CollectivePattern::Make(const ClusterGraph& graph, Kind kind,
                                                          std::vector<int> gpus,
                                                          std::vector<Transfer> unit, int steps) {
  CollectivePattern p;
  p.graph_ = &graph;
  p.kind_ = kind;
  p.gpus_ = std::move(gpus);
  p.steps_ = steps;
  for (const Transfer& t : unit) {
    if (t.bytes <= 0 || t.src_gpu == t.dst_gpu) continue;
    if (t.src_gpu < 0 || t.dst_gpu < 0 || t.src_gpu >= graph.gpu_count() ||
        t.dst_gpu >= graph.gpu_count()) {
      return absl::InvalidArgumentError("collective over a GPU outside the cluster");
    }
    auto route = graph.Route(graph.Gpu(t.src_gpu), graph.Gpu(t.dst_gpu));
    if (!route.ok()) return route.status();
    Flow f;
    f.src = t.src_gpu;
    f.dst = t.dst_gpu;
    f.share = t.bytes;
    for (const RouteHop& h : *route) {
      f.link_dirs.push_back(2 * h.link + (h.up ? 0 : 1));
      const FabricSpec* fabric = graph.links()[h.link].fabric;
      auto it = std::find(p.fabrics_.begin(), p.fabrics_.end(), fabric);
      if (it == p.fabrics_.end()) {
        p.fabrics_.push_back(fabric);
        it = p.fabrics_.end() - 1;
      }
      f.fabric_mask |= 1u << (it - p.fabrics_.begin());
      p.step_latency_s_ = std::max(p.step_latency_s_, fabric->step_latency_us * 1e-6);
    }
    f.route_latency_s = graph.RouteLatencyUs(*route) * 1e-6;
    p.max_route_latency_s_ = std::max(p.max_route_latency_s_, f.route_latency_s);
    p.flows_.push_back(std::move(f));
  }
  // Dense indices of the link directions, so that costing a collective touches flat arrays.
  for (const Flow& f : p.flows_)
    p.dirs_.insert(p.dirs_.end(), f.link_dirs.begin(), f.link_dirs.end());
  std::sort(p.dirs_.begin(), p.dirs_.end());
  p.dirs_.erase(std::unique(p.dirs_.begin(), p.dirs_.end()), p.dirs_.end());
  for (Flow& f : p.flows_) {
    for (int d : f.link_dirs) {
      f.local_dirs.push_back(
          static_cast<int>(std::lower_bound(p.dirs_.begin(), p.dirs_.end(), d) - p.dirs_.begin()));
    }
  }
  // Positions of the GPUs (flows may only join GPUs of the pattern), numbered in the order the
  // GPUs first appear, and the link-load index. Looked up by binary search over the pattern's
  // GPUs, so the cost follows the pattern, not the cluster.
  std::vector<std::pair<int, int>> first_seen;  // (GPU, index in gpus_)
  for (int i = 0; i < static_cast<int>(p.gpus_.size()); ++i) {
    const int g = p.gpus_[i];
    if (g >= 0 && g < graph.gpu_count()) first_seen.emplace_back(g, i);
  }
  std::sort(first_seen.begin(), first_seen.end());
  first_seen.erase(std::unique(first_seen.begin(), first_seen.end(),
                               [](const auto& x, const auto& y) { return x.first == y.first; }),
                   first_seen.end());
  std::vector<std::pair<int, int>> by_index;  // (index in gpus_, GPU): positions in this order
  for (const auto& [g, i] : first_seen) by_index.emplace_back(i, g);
  std::sort(by_index.begin(), by_index.end());
  const int positions = static_cast<int>(by_index.size());
  std::vector<std::pair<int, int>> position_of;  // (GPU, position), sorted by GPU
  for (int pos = 0; pos < positions; ++pos) position_of.emplace_back(by_index[pos].second, pos);
  std::sort(position_of.begin(), position_of.end());
  auto position = [&position_of](int g) {
    auto it = std::lower_bound(position_of.begin(), position_of.end(), std::make_pair(g, -1));
    return it != position_of.end() && it->first == g ? it->second : -1;
  };
  std::vector<IndexedFlow> indexed;
  indexed.reserve(p.flows_.size());
  for (Flow& f : p.flows_) {
    f.src_pos = position(f.src);
    f.dst_pos = position(f.dst);
    if (f.src_pos < 0 || f.dst_pos < 0) {
      return absl::InvalidArgumentError("collective transfer between GPUs outside its group");
    }
    indexed.push_back({f.src_pos, f.dst_pos, int(f.fabric_mask), f.share, f.local_dirs});
  }
  p.index_ = LinkLoadIndex(positions, int(p.dirs_.size()), indexed);
  return p;
}

namespace {

// The ring of an all-reduce (passes 2: reduce-scatter then all-gather) or of one of its halves
// (passes 1): each pass moves (n-1)/n of the message per GPU in n-1 steps.
struct RingShape {
  std::vector<Transfer> unit;
  int steps = 0;
};

absl::StatusOr<RingShape> Ring(const ClusterGraph& graph, const std::vector<int>& gpus,
                               double passes) {
  const int n = static_cast<int>(gpus.size());
  RingShape r;
  if (n <= 1) return r;
  // Group the GPUs by server (in the given order).
  std::vector<int> servers;
  std::vector<std::vector<int>> local;
  for (int g : gpus) {
    if (g < 0 || g >= graph.gpu_count()) {
      return absl::InvalidArgumentError("collective over a GPU outside the cluster");
    }
    const int server = graph.devices()[graph.Gpu(g)].server;
    auto it = std::find(servers.begin(), servers.end(), server);
    if (it == servers.end()) {
      servers.push_back(server);
      local.emplace_back();
      it = servers.end() - 1;
    }
    local[it - servers.begin()].push_back(g);
  }
  const int m = static_cast<int>(servers.size());
  const int per = static_cast<int>(local[0].size());
  bool even = true;
  for (const auto& l : local) even = even && static_cast<int>(l.size()) == per;
  if (m == 1 || per == 1 || !even) {
    // One ring through every GPU.
    for (int i = 0; i < n; ++i) {
      r.unit.push_back({gpus[i], gpus[(i + 1) % n], passes * (n - 1) / n});
    }
    r.steps = static_cast<int>(passes * (n - 1));
    return r;
  }
  // Hierarchical (NCCL-like, rail-aligned): the passes inside each server (a ring of `per` GPUs:
  // passes x (per-1)/per of the message per GPU), and between servers one ring per local rank
  // over its shard (passes x (m-1)/m of message/per per GPU, on that GPU's NIC).
  for (const auto& l : local) {
    for (int i = 0; i < per; ++i) {
      r.unit.push_back({l[i], l[(i + 1) % per], passes * (per - 1) / per});
    }
  }
  for (int k = 0; k < per; ++k) {
    for (int s = 0; s < m; ++s) {
      r.unit.push_back({local[s][k], local[(s + 1) % m][k], passes * (m - 1) / m / per});
    }
  }
  r.steps = static_cast<int>(passes * (per - 1) + passes * (m - 1));
  return r;
}

}  // namespace

absl::StatusOr<CollectivePattern> CollectivePattern::RingAllReduce(const ClusterGraph& graph,
                                                                   std::vector<int> gpus) {
  auto ring = Ring(graph, gpus, 2.0);
  if (!ring.ok()) return ring.status();
  return Make(graph, Kind::kRingAllReduce, std::move(gpus), std::move(ring->unit), ring->steps);
}

absl::StatusOr<CollectivePattern> CollectivePattern::RingAllGather(const ClusterGraph& graph,
                                                                   std::vector<int> gpus) {
  auto ring = Ring(graph, gpus, 1.0);
  if (!ring.ok()) return ring.status();
  return Make(graph, Kind::kRingAllGather, std::move(gpus), std::move(ring->unit), ring->steps);
}

absl::StatusOr<CollectivePattern> CollectivePattern::OneShotAllReduce(const ClusterGraph& graph,
                                                                      std::vector<int> gpus) {
  const int n = static_cast<int>(gpus.size());
  std::vector<Transfer> unit;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i != j) unit.push_back({gpus[i], gpus[j], 1.0});
    }
  }
  return Make(graph, Kind::kOneShotAllReduce, std::move(gpus), std::move(unit), n > 1 ? 1 : 0);
}

absl::StatusOr<CollectivePattern> CollectivePattern::TwoShotAllReduce(const ClusterGraph& graph,
                                                                      std::vector<int> gpus) {
  const int n = static_cast<int>(gpus.size());
  std::vector<Transfer> unit;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i != j) unit.push_back({gpus[i], gpus[j], 2.0 / n});
    }
  }
  return Make(graph, Kind::kTwoShotAllReduce, std::move(gpus), std::move(unit), n > 1 ? 2 : 0);
}

bool CollectivePattern::ScaleUpOnly() const {
  for (int d : dirs_) {
    if (graph_->links()[d / 2].tier != LinkTier::kScaleUp) return false;
  }
  return true;
}

absl::StatusOr<CollectivePattern> CollectivePattern::AllToAll(const ClusterGraph& graph,
                                                              std::vector<int> gpus) {
  const int n = static_cast<int>(gpus.size());
  std::vector<Transfer> unit;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i != j) unit.push_back({gpus[i], gpus[j], 1.0 / n});
    }
  }
  return Make(graph, Kind::kAllToAll, std::move(gpus), std::move(unit), n > 1 ? 1 : 0);
}

absl::StatusOr<CollectivePattern> CollectivePattern::Send(const ClusterGraph& graph, int from_gpu,
                                                          int to_gpu) {
  return Make(graph, Kind::kSend, {from_gpu, to_gpu}, {{from_gpu, to_gpu, 1.0}}, 1);
}

absl::StatusOr<CollectivePattern> CollectivePattern::Custom(const ClusterGraph& graph,
                                                            std::vector<int> gpus,
                                                            std::vector<Transfer> shares,
                                                            int steps) {
  return Make(graph, Kind::kAllToAll, std::move(gpus), std::move(shares), steps);
}

std::vector<double> CollectivePattern::Efficiencies(double message_bytes) const {
  std::vector<double> eff;
  for (const FabricSpec* f : fabrics_) {
    eff.push_back(bulk_writes_ && f->bulk_write_efficiency > 0
                      ? f->bulk_write_efficiency
                      : f->protocol_efficiency.At(message_bytes));
  }
  return eff;
}

double CollectivePattern::MinEfficiency(const Flow& f, const std::vector<double>& eff) const {
  return RouteEfficiency(f.fabric_mask, eff);
}

double CollectivePattern::RouteEfficiency(unsigned mask, const std::vector<double>& eff) const {
  // A collective: the slowest protocol of the route sets its wire bytes. Bulk writes: the
  // fabric where the write is slowest (rate x efficiency) sets the pace, and its efficiency the
  // wire bytes (a GPUDirect RDMA write crosses the PCIe link to the NIC at PCIe's rate, which is
  // not what limits it).
  double e = 1.0, slowest = 0;
  bool any = false;
  for (size_t i = 0; i < eff.size(); ++i) {
    if (!(mask & (1u << i))) continue;
    if (!bulk_writes_) {
      e = std::min(e, eff[i]);
      continue;
    }
    // The fabric's rated per-port rate: which fabric is slower does not change when a fault
    // takes some ports of an aggregated link (the link's load bound sees UpGbPerS()).
    const double rate = fabrics_[i]->gb_per_s * eff[i];
    if (!any || rate < slowest) {
      slowest = rate;
      e = eff[i];
      any = true;
    }
  }
  return e;
}

double CollectivePattern::WireBytes(const Flow& f, double message_bytes) const {
  return f.share * message_bytes / MinEfficiency(f, Efficiencies(message_bytes));
}

double CollectivePattern::LatencySeconds(double launch_us) const {
  if (flows_.empty()) return 0.0;
  // One-sided bulk writes have no synchronising steps: the last packet (a write with immediate
  // data) is the completion, so the route's latency is all they wait.
  return launch_us * 1e-6 + (bulk_writes_ ? 0.0 : steps_ * step_latency_s_);
}

uint64_t CollectivePattern::capacity_version() const { return graph_->capacity_version(); }

CollectiveCost CollectivePattern::Estimate(double message_bytes, double launch_us) const {
  return Estimate(message_bytes, launch_us, Weights());
}

CollectiveCost CollectivePattern::Estimate(double message_bytes, double launch_us,
                                           const Weights& w) const {
  CollectiveCost c;
  if (flows_.empty() || message_bytes <= 0) return c;
  c.latency_s = LatencySeconds(launch_us);
  // 1 / efficiency per fabric mask (a route's slowest protocol sets its wire bytes).
  const std::vector<double> eff = Efficiencies(message_bytes);
  std::vector<double> inv_eff(size_t(1) << fabrics_.size(), 1.0);
  for (unsigned mask = 1; mask < inv_eff.size(); ++mask) {
    inv_eff[mask] = 1.0 / RouteEfficiency(mask, eff);
  }
  std::vector<double> payload, wire;  // per link direction, per byte of message
  index_.Loads(w.src, w.dst, inv_eff, &payload, &wire);
  double worst = 0;
  int worst_link = -1;
  const auto& links = graph_->links();
  for (size_t i = 0; i < dirs_.size(); ++i) {
    const Link& link = links[dirs_[i] / 2];
    const double s = wire[i] * message_bytes / (link.UpGbPerS() * 1e9);
    if (s > worst) {
      worst = s;
      worst_link = dirs_[i] / 2;
    }
    c.tier_bytes[static_cast<int>(link.tier)] += payload[i] * message_bytes;
  }
  c.transfer_s = worst + max_route_latency_s_;
  c.seconds = c.latency_s + c.transfer_s;
  if (worst_link >= 0) c.bottleneck_tier = links[worst_link].tier;
  return c;
}

std::vector<Transfer> CollectivePattern::WireTransfers(double message_bytes,
                                                       const Weights& w) const {
  const std::vector<double> eff = Efficiencies(message_bytes);
  std::vector<Transfer> out;
  out.reserve(flows_.size());
  for (const Flow& f : flows_) {
    double bytes = f.share * message_bytes / MinEfficiency(f, eff);
    if (!w.src.empty()) bytes *= w.src[f.src_pos];
    if (!w.dst.empty()) bytes *= w.dst[f.dst_pos];
    out.push_back({f.src, f.dst, bytes});
  }
  return out;
}

std::vector<int> CollectivePattern::LinkDirections() const { return dirs_; }

}  // namespace moesim
