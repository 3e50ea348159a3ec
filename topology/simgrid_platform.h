// Translation of a ClusterGraph into a SimGrid platform (the only SimGrid code in topology/).
//
// Every GPU becomes a host; every graph link a split-duplex SimGrid link (bandwidth per
// direction, latency); every route between two GPUs of a connected component is the graph's
// shortest path. ConfigureSimgridModels() must run before the platform is built: it sets the
// flow model that reproduces bottleneck analysis exactly (CM02, no cross-traffic, no TCP window
// cap; ../shared/reference/simgrid-notes.md §5.1).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "topology/cluster_graph.h"

namespace simgrid::s4u {
class Host;
class Link;
}  // namespace simgrid::s4u

namespace moesim {

// Work units per simulated second of a GPU host: a kernel of d seconds is an Exec of d × this.
inline constexpr double kGpuHostWorkPerSecond = 1e9;

struct SimgridPlatform {
  std::vector<simgrid::s4u::Host*> gpus;   // by global GPU index
  simgrid::s4u::Host* frontend = nullptr;  // runs the workload source and router
  std::vector<simgrid::s4u::Link*> links;  // by ClusterGraph link index
};

void ConfigureSimgridModels();
absl::StatusOr<SimgridPlatform> BuildSimgridPlatform(const ClusterGraph& graph);

}  // namespace moesim
