#include "topology/cluster_graph.h"

#include <algorithm>
#include <deque>

#include <boost/graph/adjacency_list.hpp>

#include "absl/strings/str_cat.h"

namespace moesim {

const char* LinkTierName(LinkTier tier) {
  switch (tier) {
    case LinkTier::kScaleUp:
      return "scale_up";
    case LinkTier::kScaleOut:
      return "scale_out";
    case LinkTier::kInterRack:
      return "inter_rack";
    case LinkTier::kHost:
      return "host";
  }
  return "";
}

namespace {
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                    boost::no_property, boost::property<boost::edge_index_t, int>>;
}  // namespace

struct ClusterGraph::Impl {
  ClusterSpec spec;
  std::vector<Device> devices;
  std::vector<Link> links;
  std::vector<int> gpus;
  std::vector<int> cpus;
  Graph graph;
  // Per source device: the link used to reach each device (-1: unreached), computed lazily.
  mutable std::vector<std::vector<int>> pred_link;

  int AddDevice(DeviceKind kind, std::string name, int rack, int server) {
    devices.push_back({kind, std::move(name), rack, server});
    boost::add_vertex(graph);
    return static_cast<int>(devices.size()) - 1;
  }
  void AddLink(std::string name, int a, int b, double gb_per_s, const FabricSpec& fabric,
               LinkTier tier) {
    boost::add_edge(a, b, static_cast<int>(links.size()), graph);
    links.push_back({std::move(name), a, b, gb_per_s, fabric.latency_us, tier, &fabric});
  }
  bool IsEndpoint(int v) const {
    return devices[v].kind == DeviceKind::kGpu || devices[v].kind == DeviceKind::kCpu;
  }
  const std::vector<int>& Tree(int source) const {
    if (pred_link.empty()) pred_link.resize(devices.size());
    std::vector<int>& pred = pred_link[source];
    if (!pred.empty()) return pred;
    pred.assign(devices.size(), -1);
    std::vector<bool> seen(devices.size(), false);
    std::deque<int> queue{source};
    seen[source] = true;
    const auto index = boost::get(boost::edge_index, graph);
    while (!queue.empty()) {
      const int u = queue.front();
      queue.pop_front();
      if (u != source && IsEndpoint(u)) continue;  // endpoints do not forward
      for (auto [e, end] = boost::out_edges(u, graph); e != end; ++e) {
        const int v = static_cast<int>(boost::target(*e, graph));
        if (seen[v]) continue;
        seen[v] = true;
        pred[v] = index[*e];
        queue.push_back(v);
      }
    }
    return pred;
  }
};

ClusterGraph::ClusterGraph(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClusterGraph::ClusterGraph(ClusterGraph&&) noexcept = default;
ClusterGraph& ClusterGraph::operator=(ClusterGraph&&) noexcept = default;
ClusterGraph::~ClusterGraph() = default;

const ClusterSpec& ClusterGraph::spec() const { return impl_->spec; }
const std::vector<Device>& ClusterGraph::devices() const { return impl_->devices; }
const std::vector<Link>& ClusterGraph::links() const { return impl_->links; }
int ClusterGraph::gpu_count() const { return static_cast<int>(impl_->gpus.size()); }
int ClusterGraph::Gpu(int i) const { return impl_->gpus.at(i); }
int ClusterGraph::Cpu(int server) const { return impl_->cpus.at(server); }

absl::StatusOr<ClusterGraph> ClusterGraph::Build(const ClusterSpec& spec) {
  if (spec.gpus_per_server < 1 || spec.servers_per_rack < 1 || spec.racks < 1) {
    return absl::InvalidArgumentError("a cluster needs at least one rack, server and GPU");
  }
  if (spec.nics_per_server < 1 || spec.gpus_per_server % spec.nics_per_server != 0) {
    return absl::InvalidArgumentError("GPUs must divide evenly over a server's NICs");
  }
  for (const FabricSpec* f : {&spec.scaleup, &spec.scaleout, &spec.interrack, &spec.host}) {
    if (!(f->gb_per_s > 0) || f->latency_us < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("fabric \"", f->name, "\" needs bandwidth > 0 and latency >= 0"));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  const ClusterSpec& s = impl->spec;  // links point at these fabrics
  const bool multi_server = s.servers() > 1;
  const int spine = s.racks > 1 ? impl->AddDevice(DeviceKind::kSpine, "spine", -1, -1) : -1;
  for (int r = 0; r < s.racks; ++r) {
    const int leaf =
        multi_server ? impl->AddDevice(DeviceKind::kLeaf, absl::StrCat("leaf-", r), r, -1) : -1;
    if (spine >= 0) {
      // One inter-rack port (of the interrack fabric) per NIC below the leaf, divided by the
      // oversubscription.
      const double uplink =
          s.servers_per_rack * s.nics_per_server * s.interrack.gb_per_s / s.leaf_oversubscription;
      impl->AddLink(absl::StrCat("uplink-", r), leaf, spine, uplink, s.interrack,
                    LinkTier::kInterRack);
    }
    int rack_switch = -1;
    if (s.scaleup_domain == ScaleUpDomain::kRack && s.gpus_per_rack() > 1) {
      rack_switch = impl->AddDevice(DeviceKind::kNvSwitch, absl::StrCat("nvswitch-r", r), r, -1);
    }
    for (int sv = 0; sv < s.servers_per_rack; ++sv) {
      const int server = r * s.servers_per_rack + sv;
      int nvswitch = rack_switch;
      if (s.scaleup_domain == ScaleUpDomain::kServer && s.gpus_per_server > 1) {
        nvswitch =
            impl->AddDevice(DeviceKind::kNvSwitch, absl::StrCat("nvswitch-", server), r, server);
      }
      const int cpu = impl->AddDevice(DeviceKind::kCpu, absl::StrCat("cpu-", server), r, server);
      impl->cpus.push_back(cpu);
      std::vector<int> nics;
      if (multi_server) {
        for (int n = 0; n < s.nics_per_server; ++n) {
          const int nic =
              impl->AddDevice(DeviceKind::kNic, absl::StrCat("nic-", server, "-", n), r, server);
          impl->AddLink(absl::StrCat("nicport-", server, "-", n), nic, leaf, s.scaleout.gb_per_s,
                        s.scaleout, LinkTier::kScaleOut);
          nics.push_back(nic);
        }
      }
      const int gpus_per_nic = s.gpus_per_server / s.nics_per_server;
      for (int g = 0; g < s.gpus_per_server; ++g) {
        const int gpu =
            impl->AddDevice(DeviceKind::kGpu, absl::StrCat("gpu-", server, "-", g), r, server);
        impl->gpus.push_back(gpu);
        if (nvswitch >= 0) {
          impl->AddLink(absl::StrCat("nvlink-", server, "-", g), gpu, nvswitch, s.scaleup.gb_per_s,
                        s.scaleup, LinkTier::kScaleUp);
        }
        if (!nics.empty()) {
          impl->AddLink(absl::StrCat("gpu-nic-", server, "-", g), gpu, nics[g / gpus_per_nic],
                        s.host.gb_per_s, s.host, LinkTier::kHost);
        }
        impl->AddLink(absl::StrCat("host-", server, "-", g), gpu, cpu, s.host.gb_per_s, s.host,
                      LinkTier::kHost);
      }
    }
  }
  return ClusterGraph(std::move(impl));
}

absl::StatusOr<std::vector<RouteHop>> ClusterGraph::Route(int from, int to) const {
  std::vector<RouteHop> route;
  if (from == to) return route;
  const std::vector<int>& pred = impl_->Tree(from);
  if (pred[to] < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("no route from ", impl_->devices[from].name, " to ", impl_->devices[to].name));
  }
  for (int v = to; v != from;) {
    const Link& l = impl_->links[pred[v]];
    const int u = (l.a == v) ? l.b : l.a;
    route.push_back({pred[v], l.a == u});
    v = u;
  }
  std::reverse(route.begin(), route.end());
  return route;
}

double ClusterGraph::RouteLatencyUs(const std::vector<RouteHop>& route) const {
  double us = 0;
  for (const RouteHop& h : route) us += impl_->links[h.link].latency_us;
  return us;
}

absl::StatusOr<LinkLoads> RouteTraffic(const ClusterGraph& graph,
                                       const std::vector<Transfer>& transfers) {
  LinkLoads loads;
  const auto& links = graph.links();
  loads.bytes.assign(2 * links.size(), 0.0);
  for (const Transfer& t : transfers) {
    if (t.bytes <= 0 || t.src_gpu == t.dst_gpu) continue;
    auto route = graph.Route(graph.Gpu(t.src_gpu), graph.Gpu(t.dst_gpu));
    if (!route.ok()) return route.status();
    for (const RouteHop& h : *route) {
      loads.bytes[2 * h.link + (h.up ? 0 : 1)] += t.bytes;
      loads.tier_bytes[static_cast<int>(links[h.link].tier)] += t.bytes;
    }
    loads.max_route_latency_s =
        std::max(loads.max_route_latency_s, graph.RouteLatencyUs(*route) * 1e-6);
  }
  double worst = 0;
  for (size_t i = 0; i < loads.bytes.size(); ++i) {
    if (loads.bytes[i] <= 0) continue;
    const double s = loads.bytes[i] / (links[i / 2].gb_per_s * 1e9);
    if (s > worst) {
      worst = s;
      loads.bottleneck_link = static_cast<int>(i / 2);
    }
  }
  loads.bound_s = worst + loads.max_route_latency_s;
  return loads;
}

}  // namespace moesim
