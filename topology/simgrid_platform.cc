#include "topology/simgrid_platform.h"

#include <simgrid/s4u.hpp>

namespace sg4 = simgrid::s4u;

namespace moesim {

void ConfigureSimgridModels() {
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/crosstraffic:0");
  sg4::Engine::set_config("network/TCP-gamma:1e30");
}

absl::StatusOr<SimgridPlatform> BuildSimgridPlatform(const ClusterGraph& graph) {
  SimgridPlatform p;
  auto* zone = sg4::create_full_zone("cluster");
  const auto& devices = graph.devices();
  std::vector<sg4::Host*> host_of(devices.size(), nullptr);
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].kind == DeviceKind::kGpu) {
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
  for (int a = 0; a < graph.gpu_count(); ++a) {
    p.gpus.push_back(host_of[graph.Gpu(a)]);
    for (int b = a + 1; b < graph.gpu_count(); ++b) {
      auto route = graph.Route(graph.Gpu(a), graph.Gpu(b));
      if (!route.ok()) continue;  // different components: no traffic may flow between them
      std::vector<sg4::LinkInRoute> links;
      for (const RouteHop& hop : *route) {
        links.emplace_back(p.links[hop.link], hop.up ? sg4::LinkInRoute::Direction::UP
                                                     : sg4::LinkInRoute::Direction::DOWN);
      }
      zone->add_route(host_of[graph.Gpu(a)]->get_netpoint(), host_of[graph.Gpu(b)]->get_netpoint(),
                      nullptr, nullptr, links, /*symmetrical=*/true);
    }
  }
  zone->seal();
  return p;
}

}  // namespace moesim
