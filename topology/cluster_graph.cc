#include "topology/cluster_graph.h"

#include <algorithm>
#include <array>
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
  // The links of a device by role (-1: none). A GPU has `scaleup` (its NVLink port), `nic` (its
  // PCIe link to the NIC) and `host` (to its CPU); a NIC and a leaf have `parent` (their port
  // to the leaf, the leaf's uplink to the spine).
  struct Ports {
    int scaleup = -1;
    int nic = -1;
    int host = -1;
    int parent = -1;
  };

  ClusterSpec spec;
  std::vector<Device> devices;
  std::vector<Link> links;
  std::vector<Ports> ports;  // by device
  std::vector<int> gpus;
  std::vector<int> cpus;
  std::vector<int> rack_uplinks;  // by rack; empty with one rack
  uint64_t capacity_version = 0;
  Graph graph;

  int AddDevice(DeviceKind kind, std::string name, int rack, int server) {
    devices.push_back({kind, std::move(name), rack, server});
    ports.emplace_back();
    boost::add_vertex(graph);
    return static_cast<int>(devices.size()) - 1;
  }
  int AddLink(std::string name, int a, int b, double gb_per_s, const FabricSpec& fabric,
              LinkTier tier) {
    boost::add_edge(a, b, static_cast<int>(links.size()), graph);
    links.push_back({std::move(name), a, b, gb_per_s, 1.0, fabric.latency_us, tier, &fabric});
    return static_cast<int>(links.size()) - 1;
  }
  bool IsEndpoint(int v) const {
    return devices[v].kind == DeviceKind::kGpu || devices[v].kind == DeviceKind::kCpu;
  }
  int Other(int link, int v) const { return links[link].a == v ? links[link].b : links[link].a; }

  // The definition of a route: breadth-first search from `from` (endpoints do not forward),
  // neighbours in the order their links were added; the first link to reach a device is its
  // predecessor. O(devices) per call.
  absl::StatusOr<std::vector<RouteHop>> Search(int from, int to) const {
    std::vector<int> pred(devices.size(), -1);
    std::vector<bool> seen(devices.size(), false);
    std::deque<int> queue{from};
    seen[from] = true;
    const auto index = boost::get(boost::edge_index, graph);
    while (!queue.empty() && !seen[to]) {
      const int u = queue.front();
      queue.pop_front();
      if (u != from && IsEndpoint(u)) continue;  // endpoints do not forward
      for (auto [e, end] = boost::out_edges(u, graph); e != end; ++e) {
        const int v = static_cast<int>(boost::target(*e, graph));
        if (seen[v]) continue;
        seen[v] = true;
        pred[v] = index[*e];
        queue.push_back(v);
      }
    }
    if (pred[to] < 0) return NoRoute(from, to);
    std::vector<RouteHop> route;
    for (int v = to; v != from;) {
      const int u = Other(pred[v], v);
      route.push_back({pred[v], links[pred[v]].a == u});
      v = u;
    }
    std::reverse(route.begin(), route.end());
    return route;
  }

  absl::Status NoRoute(int from, int to) const {
    return absl::InvalidArgumentError(
        absl::StrCat("no route from ", devices[from].name, " to ", devices[to].name));
  }

  // The same routes as Search, read off the structure Build lays out, in O(hops): two GPUs of
  // one scale-up domain meet at its NVSwitch (2 hops, preferred as the GPU's NVLink port is
  // added before its NIC link); otherwise each climbs NIC -> leaf -> spine until both reach a
  // common device (2, 4 or 6 hops; the tree above the NICs makes that path the unique shortest
  // one). A GPU and its own CPU are one host link apart; CPUs reach nothing else.
  absl::StatusOr<std::vector<RouteHop>> Walk(int from, int to) const {
    const DeviceKind fk = devices[from].kind, tk = devices[to].kind;
    if (fk == DeviceKind::kCpu || tk == DeviceKind::kCpu) {
      const int gpu = fk == DeviceKind::kCpu ? to : from;
      const int cpu = fk == DeviceKind::kCpu ? from : to;
      if (devices[gpu].kind != DeviceKind::kGpu || ports[gpu].host < 0 ||
          Other(ports[gpu].host, gpu) != cpu) {
        return NoRoute(from, to);
      }
      return std::vector<RouteHop>{{ports[gpu].host, gpu == from}};
    }
    const Ports& a = ports[from];
    const Ports& b = ports[to];
    if (a.scaleup >= 0 && b.scaleup >= 0 && Other(a.scaleup, from) == Other(b.scaleup, to)) {
      return std::vector<RouteHop>{{a.scaleup, true}, {b.scaleup, false}};
    }
    if (a.nic < 0 || b.nic < 0) return NoRoute(from, to);
    // Climb from each side: the links up and the devices they reach.
    auto climb = [this](int gpu, int first_link, std::array<int, 3>* up,
                        std::array<int, 3>* reached) {
      int n = 0;
      for (int link = first_link, v = gpu; link >= 0 && n < 3; ++n) {
        (*up)[n] = link;
        v = Other(link, v);
        (*reached)[n] = v;
        link = ports[v].parent;
      }
      return n;
    };
    std::array<int, 3> up_a{}, at_a{}, up_b{}, at_b{};
    const int na = climb(from, a.nic, &up_a, &at_a);
    const int nb = climb(to, b.nic, &up_b, &at_b);
    for (int i = 0; i < na; ++i) {
      for (int j = 0; j < nb; ++j) {
        if (at_a[i] != at_b[j]) continue;
        std::vector<RouteHop> route;
        for (int k = 0; k <= i; ++k) route.push_back({up_a[k], true});
        for (int k = j; k >= 0; --k) route.push_back({up_b[k], false});
        return route;
      }
    }
    return NoRoute(from, to);
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

int ClusterGraph::RackUplink(int rack) const {
  if (rack < 0 || size_t(rack) >= impl_->rack_uplinks.size()) return -1;
  return impl_->rack_uplinks[rack];
}

int ClusterGraph::GpuScaleUpLink(int gpu) const { return impl_->ports.at(Gpu(gpu)).scaleup; }

void ClusterGraph::SetUpShare(int link, double share) {
  impl_->links.at(link).up_share = share;
  ++impl_->capacity_version;
}

uint64_t ClusterGraph::capacity_version() const { return impl_->capacity_version; }

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
      impl->ports[leaf].parent = impl->AddLink(absl::StrCat("uplink-", r), leaf, spine, uplink,
                                               s.interrack, LinkTier::kInterRack);
      impl->rack_uplinks.push_back(impl->ports[leaf].parent);
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
          impl->ports[nic].parent =
              impl->AddLink(absl::StrCat("nicport-", server, "-", n), nic, leaf,
                            s.scaleout.gb_per_s, s.scaleout, LinkTier::kScaleOut);
          nics.push_back(nic);
        }
      }
      const int gpus_per_nic = s.gpus_per_server / s.nics_per_server;
      for (int g = 0; g < s.gpus_per_server; ++g) {
        const int gpu =
            impl->AddDevice(DeviceKind::kGpu, absl::StrCat("gpu-", server, "-", g), r, server);
        impl->gpus.push_back(gpu);
        if (nvswitch >= 0) {
          impl->ports[gpu].scaleup =
              impl->AddLink(absl::StrCat("nvlink-", server, "-", g), gpu, nvswitch,
                            s.scaleup.gb_per_s, s.scaleup, LinkTier::kScaleUp);
        }
        if (!nics.empty()) {
          impl->ports[gpu].nic =
              impl->AddLink(absl::StrCat("gpu-nic-", server, "-", g), gpu, nics[g / gpus_per_nic],
                            s.host.gb_per_s, s.host, LinkTier::kHost);
        }
        impl->ports[gpu].host = impl->AddLink(absl::StrCat("host-", server, "-", g), gpu, cpu,
                                              s.host.gb_per_s, s.host, LinkTier::kHost);
      }
    }
  }
  return ClusterGraph(std::move(impl));
}

absl::StatusOr<std::vector<RouteHop>> ClusterGraph::Route(int from, int to) const {
  if (from == to) return std::vector<RouteHop>{};
  if (impl_->IsEndpoint(from) && impl_->IsEndpoint(to)) return impl_->Walk(from, to);
  return impl_->Search(from, to);
}

absl::StatusOr<std::vector<RouteHop>> ClusterGraph::SearchRoute(int from, int to) const {
  if (from == to) return std::vector<RouteHop>{};
  return impl_->Search(from, to);
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
    const double s = loads.bytes[i] / (links[i / 2].UpGbPerS() * 1e9);
    if (s > worst) {
      worst = s;
      loads.bottleneck_link = static_cast<int>(i / 2);
    }
  }
  loads.bound_s = worst + loads.max_route_latency_s;
  return loads;
}

}  // namespace moesim
