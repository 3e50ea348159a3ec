// Translation of a ClusterGraph into a SimGrid platform (the only SimGrid code in topology/).
//
// Only what a deployment uses becomes SimGrid: a host for each GPU it names (and one frontend
// host for the workload source and routers), the routes for the GPU pairs that will exchange
// traffic (the graph's routes), and a split-duplex link (bandwidth per direction, latency) for
// each graph link those routes cross. So memory follows the deployment, not the cluster: a
// 1,024-GPU deployment on a 100,000-GPU cluster builds 1,025 hosts. SimGrid's full zone still
// keeps a route table of hosts² entries, so a deployment with more than kMaxSimgridGpuHosts GPUs,
// or more than kMaxSimgridRoutes communicating pairs, is refused with an error naming its sizes
// (never an allocation failure). ConfigureSimgridModels() must run before the platform is built:
// it sets the flow model that reproduces bottleneck analysis exactly (CM02, no cross-traffic, no
// TCP window cap; ../shared/reference/simgrid-notes.md §5.1).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "topology/cluster_graph.h"

namespace simgrid::s4u {
class Disk;
class Engine;
class Host;
class Link;
}  // namespace simgrid::s4u

namespace moesim {

// Work units per simulated second of a GPU host: a kernel of d seconds is an Exec of d × this.
inline constexpr double kGpuHostWorkPerSecond = 1e9;

// At most this many GPU hosts in one platform: SimGrid's full zone holds a table of hosts²
// route pointers (8 bytes each), 2 GiB at this bound.
inline constexpr int kMaxSimgridGpuHosts = 16384;
// At most this many distinct GPU pairs with a route: SimGrid stores each pair's route in both
// directions, about 300 bytes a pair with the 6-hop routes of a spine (5 GB at this bound).
inline constexpr int64_t kMaxSimgridRoutes = int64_t{1} << 24;

struct SimgridPlatform {
  // By global GPU index; nullptr for a GPU that was not asked for. Read it through Gpu().
  std::vector<simgrid::s4u::Host*> gpus;
  simgrid::s4u::Host* frontend = nullptr;  // runs the workload source and router
  // By global GPU index: the host CPU of the GPU's server, for GPUs whose KV is offloaded
  // (their host link routed); nullptr otherwise. Read it through HostCpu().
  std::vector<simgrid::s4u::Host*> gpu_cpus;
  // By global GPU index: the local SSDs of the GPU's server as one SimGrid disk (on its host
  // CPU), for GPUs whose KV reaches an SSD tier; nullptr otherwise. Read it through Ssd().
  std::vector<simgrid::s4u::Disk*> gpu_ssds;
  std::vector<simgrid::s4u::Link*> links;  // by ClusterGraph link index; nullptr if on no route

  // The host of GPU `g`. A GPU that got no host is a bug of the caller (every GPU a deployment
  // runs on is passed to BuildSimgridPlatform): it stops the run with file:line.
  simgrid::s4u::Host* Gpu(int g) const;
  // The host CPU of GPU `g`'s server; a GPU whose host link was not asked for is a bug of the
  // caller (file:line, as for Gpu()).
  simgrid::s4u::Host* HostCpu(int g) const;
  // The SSDs of GPU `g`'s server; a GPU without them is a bug of the caller (file:line).
  simgrid::s4u::Disk* Ssd(int g) const;
  int host_count() const;  // GPU hosts and the frontend
  int link_count() const;  // links created
};

// `parallel_tasks`: use SimGrid's ptask_L07 host/network model (needed for parallel-task
// collectives; plain flows and sleeps still work under it).
void ConfigureSimgridModels(bool parallel_tasks);
// Starts SimGrid's engine for one simulation named `name` (its logs quietened to critical
// messages) and configures its models as ConfigureSimgridModels does. One per process at a time.
std::unique_ptr<simgrid::s4u::Engine> StartSimgridEngine(const char* name, bool parallel_tasks);
// `gpus`: global indices of the GPUs that get a host (duplicates are fine; the GPUs of
// `gpu_pairs` get one too). `gpu_pairs`: global GPU index pairs that need a route (either order;
// duplicates are fine). Fails on a GPU outside the cluster, a pair with no route, or more than
// kMaxSimgridGpuHosts GPUs or kMaxSimgridRoutes pairs. `host_link_gpus`: GPUs that copy to and
// from their server's host memory (KV offload): their server's CPU gets a host and the GPU a
// route to it over its host link. `ssd`: with read and write bandwidths > 0 (bytes/s), each of
// those servers also gets its local SSDs as one disk on that host.
struct SsdBandwidth {
  double read_bytes_per_s = 0;
  double write_bytes_per_s = 0;
};
absl::StatusOr<SimgridPlatform> BuildSimgridPlatform(
    const ClusterGraph& graph, const std::vector<int>& gpus,
    const std::vector<std::pair<int, int>>& gpu_pairs, const std::vector<int>& host_link_gpus = {},
    const SsdBandwidth& ssd = {});

}  // namespace moesim
