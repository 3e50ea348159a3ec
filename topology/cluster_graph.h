// The cluster as a graph of devices and links (Boost.Graph underneath).
//
// Vertices: GPUs, NVSwitches (one per scale-up domain), NICs, one leaf switch per rack, one spine
// (when there are several racks) and one host CPU per server. Edges are full-duplex links with a
// per-direction bandwidth, a latency, a tier and a fabric:
//   GPU–NVSwitch  scale_up    (the GPU's NVLink port)
//   GPU–NIC       host        (PCIe, host fabric; a NIC may be shared by several GPUs)
//   NIC–leaf      scale_out   (the NIC port)
//   leaf–spine    inter_rack  (the rack's uplink: one interrack-fabric port per NIC in the
//                              rack / leaf_oversubscription)
//   GPU–CPU       host        (PCIe or C2C, for KV offload)
// The spine is one logical switch whose uplinks aggregate the rack's links: the fluid
// equivalent of ideal ECMP over parallel spine switches.
//
// Routes are shortest paths in hops that never pass through a GPU or a CPU (they are endpoints,
// not routers). The SimGrid platform (simgrid_platform.h) is built from this graph.
//
//   MOESIM_ASSIGN_OR_RETURN(ClusterGraph g, ClusterGraph::Build(cluster_spec));
//   auto route = g.Route(g.Gpu(0), g.Gpu(9));  // gpu -> nic -> leaf -> nic -> gpu
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/fabric_spec.h"
#include "topology/cluster_spec.h"

namespace moesim {

enum class DeviceKind { kGpu, kNvSwitch, kNic, kLeaf, kSpine, kCpu };
enum class LinkTier { kScaleUp = 0, kScaleOut = 1, kInterRack = 2, kHost = 3 };
inline constexpr int kLinkTierCount = 4;

const char* LinkTierName(LinkTier tier);  // "scale_up", "scale_out", "inter_rack", "host"

struct Device {
  DeviceKind kind = DeviceKind::kGpu;
  std::string name;
  int rack = 0;
  int server = 0;  // global server index (racks × servers_per_rack)
};

struct Link {
  std::string name;
  int a = 0;  // device index; "up" is a -> b
  int b = 0;
  double gb_per_s = 0;  // per direction, rated
  // The share of the link's ports that are up (fault injection; 1 when healthy): the analytic
  // estimates (CollectivePattern::Estimate, RouteTraffic) see UpGbPerS(). An aggregated link
  // (a rack's uplink: parallel ports under ECMP) that loses some ports carries its traffic on
  // the others, which is what routing around the dead ports amounts to in the fluid model.
  double up_share = 1.0;
  double UpGbPerS() const { return gb_per_s * up_share; }
  double latency_us = 0;
  LinkTier tier = LinkTier::kScaleUp;
  const FabricSpec* fabric = nullptr;  // owned by the graph
};

struct RouteHop {
  int link = 0;
  bool up = true;
};

class ClusterGraph {
 public:
  static absl::StatusOr<ClusterGraph> Build(const ClusterSpec& spec);

  ClusterGraph(ClusterGraph&&) noexcept;
  ClusterGraph& operator=(ClusterGraph&&) noexcept;
  ~ClusterGraph();

  const ClusterSpec& spec() const;
  const std::vector<Device>& devices() const;
  const std::vector<Link>& links() const;
  int gpu_count() const;
  int Gpu(int global_index) const;  // device index of a GPU
  int Cpu(int server) const;        // device index of a server's host CPU

  // Shortest route from device `from` to device `to` (empty when equal); fails when none.
  // Between GPUs and CPUs it is read off the cluster's structure in O(hops), with no per-source
  // state, so memory does not grow with the routes asked for; it equals SearchRoute (tests
  // compare them on every pair of many cluster shapes). Other devices: SearchRoute.
  absl::StatusOr<std::vector<RouteHop>> Route(int from, int to) const;
  // The definition of a route: breadth-first search in hops from `from`, neighbours in the
  // order their links were added, GPUs and CPUs not forwarding. O(devices) time per call.
  absl::StatusOr<std::vector<RouteHop>> SearchRoute(int from, int to) const;
  double RouteLatencyUs(const std::vector<RouteHop>& route) const;

  // The link from rack `rack`'s leaf to the spine, or -1 with a single rack.
  int RackUplink(int rack) const;
  // The link from GPU `gpu` (global index) to its scale-up switch (NVLink port), or -1 when
  // its scale-up domain is that GPU alone.
  int GpuScaleUpLink(int gpu) const;
  // Fault injection: sets links()[link].up_share (in (0, 1]) and bumps capacity_version(), so
  // memoised estimates know to recompute.
  void SetUpShare(int link, double share);
  uint64_t capacity_version() const;

 private:
  struct Impl;
  explicit ClusterGraph(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A transfer of `bytes` from one GPU (global index) to another.
struct Transfer {
  int src_gpu = 0;
  int dst_gpu = 0;
  double bytes = 0;
};

// Loads of a set of concurrent transfers on every link direction (index 2·link + (up ? 0 : 1)),
// and the link-load bound: the time the busiest link direction needs, plus the longest route
// latency. Bytes per tier count every link a byte crosses in that tier.
struct LinkLoads {
  std::vector<double> bytes;
  double bound_s = 0;
  double max_route_latency_s = 0;
  int bottleneck_link = -1;  // -1 when no bytes move
  std::array<double, kLinkTierCount> tier_bytes{};
};
absl::StatusOr<LinkLoads> RouteTraffic(const ClusterGraph& graph,
                                       const std::vector<Transfer>& transfers);

}  // namespace moesim
