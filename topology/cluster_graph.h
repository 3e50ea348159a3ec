// The cluster as a graph of devices and links (Boost.Graph underneath).
//
// Vertices are GPUs and switches; edges are full-duplex links with a per-direction bandwidth,
// a latency and a tier (scale-up NVLink/NVSwitch so far). Routes are shortest paths in hops.
// The SimGrid platform (simgrid_platform.h) is built from this graph, never written twice.
//
// Today the builder knows servers of GPUs on an NVSwitch; racks, NICs and leaf/spine come
// with the topology issue.
//
//   MOESIM_ASSIGN_OR_RETURN(ClusterGraph g, ClusterGraph::Servers({1, 8, {450, 1.0}}));
//   std::vector<RouteHop> r = g.Route(g.Gpu(0), g.Gpu(3));  // gpu0 -> nvswitch -> gpu3
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace moesim {

enum class DeviceKind { kGpu, kSwitch };
enum class LinkTier { kScaleUp };

const char* LinkTierName(LinkTier tier);

struct Device {
  DeviceKind kind = DeviceKind::kGpu;
  std::string name;
  int server = 0;
};

struct Link {
  std::string name;
  int a = 0;  // device index of one end ("up" direction is a -> b)
  int b = 0;
  double gb_per_s = 0;  // per direction, 1e9 B/s
  double latency_us = 0;
  LinkTier tier = LinkTier::kScaleUp;
};

struct RouteHop {
  int link = 0;
  bool up = true;  // traversed a -> b
};

struct ServerLayout {
  int servers = 1;
  int gpus_per_server = 1;
  struct {
    double gb_per_s = 0;    // NVLink port bandwidth per GPU per direction
    double latency_us = 0;  // one GPU -> GPU hop through the switch
  } scaleup;
};

class ClusterGraph {
 public:
  // Servers of GPUs, each GPU attached by one port to its server's NVSwitch. A server with a
  // single GPU has no switch.
  static absl::StatusOr<ClusterGraph> Servers(const ServerLayout& layout);

  ClusterGraph(ClusterGraph&&) noexcept;
  ClusterGraph& operator=(ClusterGraph&&) noexcept;
  ~ClusterGraph();

  const std::vector<Device>& devices() const;
  const std::vector<Link>& links() const;
  int gpu_count() const { return static_cast<int>(gpus_.size()); }
  int Gpu(int global_index) const { return gpus_.at(global_index); }  // device index

  // Shortest path in hops from device `from` to device `to` (empty when from == to). Fails if
  // the two are not connected.
  absl::StatusOr<std::vector<RouteHop>> Route(int from, int to) const;

 private:
  struct Impl;
  explicit ClusterGraph(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<int> gpus_;
};

}  // namespace moesim
