#include "topology/cluster_graph.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>

#include "absl/strings/str_cat.h"

namespace moesim {

const char* LinkTierName(LinkTier tier) {
  switch (tier) {
    case LinkTier::kScaleUp:
      return "scale_up";
  }
  return "";
}

namespace {
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                    boost::no_property, boost::property<boost::edge_index_t, int>>;
}  // namespace

struct ClusterGraph::Impl {
  std::vector<Device> devices;
  std::vector<Link> links;
  Graph graph;

  int AddDevice(Device d) {
    devices.push_back(std::move(d));
    boost::add_vertex(graph);
    return static_cast<int>(devices.size()) - 1;
  }
  void AddLink(Link l) {
    boost::add_edge(l.a, l.b, static_cast<int>(links.size()), graph);
    links.push_back(std::move(l));
  }
};

ClusterGraph::ClusterGraph(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClusterGraph::ClusterGraph(ClusterGraph&&) noexcept = default;
ClusterGraph& ClusterGraph::operator=(ClusterGraph&&) noexcept = default;
ClusterGraph::~ClusterGraph() = default;

const std::vector<Device>& ClusterGraph::devices() const { return impl_->devices; }
const std::vector<Link>& ClusterGraph::links() const { return impl_->links; }

absl::StatusOr<ClusterGraph> ClusterGraph::Servers(const ServerLayout& layout) {
  if (layout.servers < 1 || layout.gpus_per_server < 1) {
    return absl::InvalidArgumentError("a cluster needs at least one server with one GPU");
  }
  if (!(layout.scaleup.gb_per_s > 0) || layout.scaleup.latency_us < 0) {
    return absl::InvalidArgumentError("scale-up links need bandwidth > 0 and latency >= 0");
  }
  auto impl = std::make_unique<Impl>();
  std::vector<int> gpus;
  for (int s = 0; s < layout.servers; ++s) {
    int sw = -1;
    if (layout.gpus_per_server > 1) {
      sw = impl->AddDevice({DeviceKind::kSwitch, absl::StrCat("nvswitch-", s), s});
    }
    for (int g = 0; g < layout.gpus_per_server; ++g) {
      const int gpu = impl->AddDevice({DeviceKind::kGpu, absl::StrCat("gpu-", s, "-", g), s});
      gpus.push_back(gpu);
      if (sw >= 0) {
        // Latency is split over the two ports of a GPU -> switch -> GPU route.
        impl->AddLink({absl::StrCat("nvlink-", s, "-", g), gpu, sw, layout.scaleup.gb_per_s,
                       layout.scaleup.latency_us / 2, LinkTier::kScaleUp});
      }
    }
  }
  ClusterGraph g(std::move(impl));
  g.gpus_ = std::move(gpus);
  return g;
}

absl::StatusOr<std::vector<RouteHop>> ClusterGraph::Route(int from, int to) const {
  std::vector<RouteHop> route;
  if (from == to) return route;
  const Graph& g = impl_->graph;
  const size_t n = boost::num_vertices(g);
  std::vector<Graph::edge_descriptor> pred_edge(n);
  std::vector<bool> reached(n, false);
  reached[from] = true;
  struct Visitor : boost::default_bfs_visitor {
    std::vector<Graph::edge_descriptor>* pred;
    std::vector<bool>* reached;
    void tree_edge(Graph::edge_descriptor e, const Graph& g) const {
      const auto v = boost::target(e, g);
      (*pred)[v] = e;
      (*reached)[v] = true;
    }
  } visitor;
  visitor.pred = &pred_edge;
  visitor.reached = &reached;
  boost::breadth_first_search(g, boost::vertex(from, g), boost::visitor(visitor));
  if (!reached[to]) {
    return absl::InvalidArgumentError(
        absl::StrCat("no route from ", impl_->devices[from].name, " to ", impl_->devices[to].name));
  }
  const auto index = boost::get(boost::edge_index, g);
  for (int v = to; v != from;) {
    const auto e = pred_edge[v];
    const int link = index[e];
    const Link& l = impl_->links[link];
    const int u = (l.a == v) ? l.b : l.a;  // previous vertex on the path
    route.push_back({link, l.a == u});
    v = u;
  }
  std::reverse(route.begin(), route.end());
  return route;
}

}  // namespace moesim
