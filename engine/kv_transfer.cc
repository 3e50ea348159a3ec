#include "engine/kv_transfer.h"

#include <simgrid/s4u.hpp>

namespace sg4 = simgrid::s4u;

namespace moesim {

KvTransferRunner::KvTransferRunner(const SimgridPlatform& platform, const ClusterGraph& graph,
                                   const KvConnectorSpec& connector, bool analytic)
    : platform_(platform), graph_(graph), connector_(connector), analytic_(analytic) {}

absl::StatusOr<const KvTransferRunner::Routed*> KvTransferRunner::Route(
    const std::vector<Transfer>& pairs, double bytes) {
  std::vector<std::pair<int, int>> key;
  key.reserve(pairs.size());
  for (const Transfer& t : pairs) key.emplace_back(t.src_gpu, t.dst_gpu);
  auto it = routed_.find(key);
  if (it != routed_.end()) return &it->second;
  auto loads = RouteTraffic(graph_, pairs);
  if (!loads.ok()) return loads.status();
  Routed r;
  for (int t = 0; t < kLinkTierCount; ++t) r.tier_share[t] = loads->tier_bytes[t] / bytes;
  r.latency_s = loads->max_route_latency_s;
  r.seconds_per_byte = (loads->bound_s - loads->max_route_latency_s) / bytes;
  if (loads->bottleneck_link >= 0) {
    r.bottleneck_tier = static_cast<int>(graph_.links()[loads->bottleneck_link].tier);
  }
  return &routed_.emplace(std::move(key), r).first->second;
}

absl::StatusOr<KvTransferOutcome> KvTransferRunner::Run(const std::vector<Transfer>& pairs,
                                                        bool setup) {
  KvTransferOutcome out;
  for (const Transfer& t : pairs) out.bytes += t.bytes;
  const double start = sg4::Engine::get_clock();
  if (out.bytes <= 0) return out;
  auto routed = Route(pairs, out.bytes);
  if (!routed.ok()) return routed.status();
  for (int t = 0; t < kLinkTierCount; ++t) out.tier_bytes[t] = (*routed)->tier_share[t] * out.bytes;
  out.bottleneck_tier = (*routed)->bottleneck_tier;
  if (setup) sg4::this_actor::sleep_for(connector_.setup_us * 1e-6);
  if (analytic_) {
    sg4::this_actor::sleep_for((*routed)->latency_s + (*routed)->seconds_per_byte * out.bytes /
                                                          connector_.link_efficiency);
  } else {
    std::vector<sg4::CommPtr> comms;
    comms.reserve(pairs.size());
    for (const Transfer& t : pairs) {
      if (t.bytes <= 0) continue;
      comms.push_back(
          sg4::Comm::sendto_async(platform_.Gpu(t.src_gpu), platform_.Gpu(t.dst_gpu),
                                  static_cast<uint64_t>(t.bytes / connector_.link_efficiency)));
    }
    for (auto& c : comms) c->wait();
  }
  out.seconds = sg4::Engine::get_clock() - start;
  return out;
}

absl::StatusOr<std::vector<double>> ProbeKvTransfers(
    const ClusterSpec& cluster, const KvConnectorSpec& connector,
    const std::vector<std::vector<Transfer>>& transfers, bool analytic) {
  const auto engine = StartSimgridEngine("moesim-kv-probe", false);
  auto graph = ClusterGraph::Build(cluster);
  if (!graph.ok()) return graph.status();
  std::vector<std::pair<int, int>> pairs;
  for (const auto& set : transfers) {
    for (const Transfer& t : set) pairs.emplace_back(t.src_gpu, t.dst_gpu);
  }
  auto platform = BuildSimgridPlatform(*graph, /*gpus=*/{}, pairs);
  if (!platform.ok()) return platform.status();
  KvTransferRunner runner(*platform, *graph, connector, analytic);
  std::vector<double> seconds;
  absl::Status error;
  sg4::Actor::create("kv-probe", platform->frontend, [&]() {
    for (const auto& set : transfers) {
      auto out = runner.Run(set, /*setup=*/true);
      if (!out.ok()) {
        error = out.status();
        return;
      }
      seconds.push_back(out->seconds);
    }
  });
  engine->run();
  if (!error.ok()) return error;
  return seconds;
}

}  // namespace moesim
