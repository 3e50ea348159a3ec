// Translation of a ClusterGraph into a SimGrid platform (the only SimGrid code in topology/).
//
// Every GPU and host CPU becomes a SimGrid host; every graph link a split-duplex SimGrid link
// (bandwidth per direction, latency). Routes are the graph's shortest paths, added for the GPU
// pairs that will exchange traffic (a full route table over thousands of GPUs would cost
// memory quadratic in the cluster size for pairs that never talk). ConfigureSimgridModels() must
// run before the platform is built: it sets the flow model that reproduces bottleneck analysis
// exactly (CM02, no cross-traffic, no TCP window cap; ../shared/reference/simgrid-notes.md §5.1).
#pragma once

#include <memory>

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "topology/cluster_graph.h"

namespace simgrid::s4u {
class Engine;
class Host;
class Link;
}  // namespace simgrid::s4u

namespace moesim {

// Work units per simulated second of a GPU host: a kernel of d seconds is an Exec of d × this.
inline constexpr double kGpuHostWorkPerSecond = 1e9;

struct SimgridPlatform {
  std::vector<simgrid::s4u::Host*> gpus;   // by global GPU index
  std::vector<simgrid::s4u::Host*> cpus;   // by global server index
  simgrid::s4u::Host* frontend = nullptr;  // runs the workload source and router
  std::vector<simgrid::s4u::Link*> links;  // by ClusterGraph link index
};

// `parallel_tasks`: use SimGrid's ptask_L07 host/network model (needed for parallel-task
// collectives; plain flows and sleeps still work under it).
void ConfigureSimgridModels(bool parallel_tasks);
// Starts SimGrid's engine for one simulation named `name` (its logs quietened to critical
// messages) and configures its models as ConfigureSimgridModels does. One per process at a time.
std::unique_ptr<simgrid::s4u::Engine> StartSimgridEngine(const char* name, bool parallel_tasks);
// `gpu_pairs`: global GPU index pairs that need a route (either order; duplicates are fine).
absl::StatusOr<SimgridPlatform> BuildSimgridPlatform(
    const ClusterGraph& graph, const std::vector<std::pair<int, int>>& gpu_pairs);

}  // namespace moesim
