#include "engine/collective_probe.h"

#include <chrono>
#include <functional>

#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

absl::StatusOr<ProbeResult> ProbeCollective(
    const ClusterSpec& cluster,
    const std::function<absl::StatusOr<CollectivePattern>(const ClusterGraph&)>& make_pattern,
    double message_bytes, double launch_us, CollectiveFidelity fidelity) {
  const auto engine = StartSimgridEngine("moesim-probe", fidelity == CollectiveFidelity::kPtask);
  auto graph = ClusterGraph::Build(cluster);
  if (!graph.ok()) return graph.status();
  auto pattern = make_pattern(*graph);
  if (!pattern.ok()) return pattern.status();
  std::vector<std::pair<int, int>> pairs;
  for (const Transfer& t : pattern->WireTransfers(message_bytes)) {
    pairs.emplace_back(t.src_gpu, t.dst_gpu);
  }
  auto platform = BuildSimgridPlatform(*graph, pattern->gpus(), pairs);
  if (!platform.ok()) return platform.status();
  ProbeResult result;
  result.analytic_s = pattern->Estimate(message_bytes, launch_us).seconds;
  CollectiveRunner runner(*platform, fidelity);
  sg4::Actor::create("probe", platform->frontend, [&]() {
    runner.Run(*pattern, message_bytes, launch_us);
    result.simulated_s = sg4::Engine::get_clock();
  });
  const auto t0 = std::chrono::steady_clock::now();
  engine->run();
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace moesim
