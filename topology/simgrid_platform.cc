#include "topology/simgrid_platform.h"

#include <set>
#include <string>

#include <simgrid/s4u.hpp>

namespace sg4 = simgrid::s4u;

namespace moesim {

std::unique_ptr<sg4::Engine> StartSimgridEngine(const char* name, bool parallel_tasks) {
  xbt_log_control_set("root.thres:critical");
  std::string arg0(name);
  int argc = 1;
  char* argv[] = {arg0.data(), nullptr};
  auto engine = std::make_unique<sg4::Engine>(&argc, argv);
  ConfigureSimgridModels(parallel_tasks);
  return engine;
}

void ConfigureSimgridModels(bool parallel_tasks) {
  if (parallel_tasks) {
    sg4::Engine::set_config("host/model:ptask_L07");
  } else {
    sg4::Engine::set_config("network/model:CM02");
    sg4::Engine::set_config("network/crosstraffic:0");
    sg4::Engine::set_config("network/TCP-gamma:1e30");
  }
}

absl::StatusOr<SimgridPlatform> BuildSimgridPlatform(
    const ClusterGraph& graph, const std::vector<std::pair<int, int>>& gpu_pairs) {
  SimgridPlatform p;
  auto* zone = sg4::create_full_zone("cluster");
  const auto& devices = graph.devices();
  std::vector<sg4::Host*> host_of(devices.size(), nullptr);
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].kind == DeviceKind::kGpu || devices[i].kind == DeviceKind::kCpu) {
      host_of[i] = zone->create_host(devices[i].name, kGpuHostWorkPerSecond)->seal();
    }
  }
  p.frontend = zone->create_host("frontend", kGpuHostWorkPerSecond)->seal();
  for (const Link& l : graph.links()) {
    auto* link = zone->create_split_duplex_link(l.name, l.gb_per_s * 1e9);
    link->set_latency(l.latency_us * 1e-6);
    link->seal();
    p.links.push_back(link);
  }
  for (int g = 0; g < graph.gpu_count(); ++g) p.gpus.push_back(host_of[graph.Gpu(g)]);
  for (int s = 0; s < graph.spec().servers(); ++s) p.cpus.push_back(host_of[graph.Cpu(s)]);
  std::set<std::pair<int, int>> done;
  for (auto [a, b] : gpu_pairs) {
    if (a == b) continue;
    if (a > b) std::swap(a, b);
    if (!done.insert({a, b}).second) continue;
    auto route = graph.Route(graph.Gpu(a), graph.Gpu(b));
    if (!route.ok()) return route.status();
    std::vector<sg4::LinkInRoute> links;
    for (const RouteHop& hop : *route) {
      links.emplace_back(p.links[hop.link], hop.up ? sg4::LinkInRoute::Direction::UP
                                                   : sg4::LinkInRoute::Direction::DOWN);
    }
    zone->add_route(p.gpus[a]->get_netpoint(), p.gpus[b]->get_netpoint(), nullptr, nullptr, links,
                    /*symmetrical=*/true);
  }
  zone->seal();
  return p;
}

}  // namespace moesim
