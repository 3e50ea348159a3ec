#include "topology/simgrid_platform.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <simgrid/s4u.hpp>

#include "absl/strings/str_cat.h"

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

sg4::Host* SimgridPlatform::Gpu(int g) const {
  if (g < 0 || g >= static_cast<int>(gpus.size()) || gpus[g] == nullptr) {
    std::fprintf(stderr, "%s:%d: internal error: GPU %d has no SimGrid host (%zu GPUs)\n", __FILE__,
                 __LINE__, g, gpus.size());
    std::abort();
  }
  return gpus[g];
}

sg4::Host* SimgridPlatform::HostCpu(int g) const {
  if (g < 0 || g >= static_cast<int>(gpu_cpus.size()) || gpu_cpus[g] == nullptr) {
    std::fprintf(stderr, "%s:%d: internal error: GPU %d has no route to a host CPU\n", __FILE__,
                 __LINE__, g);
    std::abort();
  }
  return gpu_cpus[g];
}

sg4::Disk* SimgridPlatform::Ssd(int g) const {
  if (g < 0 || g >= static_cast<int>(gpu_ssds.size()) || gpu_ssds[g] == nullptr) {
    std::fprintf(stderr, "%s:%d: internal error: GPU %d has no SSD tier\n", __FILE__, __LINE__, g);
    std::abort();
  }
  return gpu_ssds[g];
}

int SimgridPlatform::host_count() const {
  return static_cast<int>(std::count_if(gpus.begin(), gpus.end(), [](auto* h) { return h; })) +
         (frontend != nullptr ? 1 : 0);
}

int SimgridPlatform::link_count() const {
  return static_cast<int>(std::count_if(links.begin(), links.end(), [](auto* l) { return l; }));
}

absl::StatusOr<SimgridPlatform> BuildSimgridPlatform(
    const ClusterGraph& graph, const std::vector<int>& gpus,
    const std::vector<std::pair<int, int>>& gpu_pairs, const std::vector<int>& host_link_gpus,
    const SsdBandwidth& ssd) {
  const int n = graph.gpu_count();
  auto outside = [n](int g) { return g < 0 || g >= n; };
  std::vector<char> hosted(n, 0);
  for (int g : gpus) {
    if (outside(g)) {
      return absl::InvalidArgumentError(
          absl::StrCat("GPU ", g, " is outside the cluster's ", n, " GPUs"));
    }
    hosted[g] = 1;
  }
  // Distinct unordered pairs.
  std::vector<std::pair<int, int>> pairs;
  pairs.reserve(gpu_pairs.size());
  for (auto [a, b] : gpu_pairs) {
    if (outside(a) || outside(b)) {
      return absl::InvalidArgumentError(
          absl::StrCat("GPU pair (", a, ", ", b, ") is outside the cluster's ", n, " GPUs"));
    }
    if (a == b) continue;
    pairs.emplace_back(std::min(a, b), std::max(a, b));
    hosted[a] = hosted[b] = 1;
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::vector<int> offloading;
  for (int g : host_link_gpus) {
    if (outside(g)) {
      return absl::InvalidArgumentError(
          absl::StrCat("GPU ", g, " is outside the cluster's ", n, " GPUs"));
    }
    offloading.push_back(g);
    hosted[g] = 1;
  }
  std::sort(offloading.begin(), offloading.end());
  offloading.erase(std::unique(offloading.begin(), offloading.end()), offloading.end());
  const int host_gpus = static_cast<int>(std::count(hosted.begin(), hosted.end(), 1));
  if (host_gpus > kMaxSimgridGpuHosts) {
    return absl::InvalidArgumentError(
        absl::StrCat("the deployment uses ", host_gpus, " of the cluster's ", n,
                     " GPUs; a SimGrid platform holds at most ", kMaxSimgridGpuHosts,
                     " GPU hosts (its route table grows as the square of its hosts: 2 GiB at ",
                     kMaxSimgridGpuHosts, "): deploy fewer GPUs in one scenario"));
  }
  if (static_cast<int64_t>(pairs.size()) > kMaxSimgridRoutes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the deployment's GPUs exchange traffic in ", pairs.size(),
                     " distinct GPU pairs; a SimGrid platform holds at most ", kMaxSimgridRoutes,
                     " routed pairs: deploy fewer GPUs per instance or pool"));
  }

  // The links the routes cross (routes cost O(hops): they are asked for again below rather than
  // kept).
  std::vector<char> crossed(graph.links().size(), 0);
  for (const auto& [a, b] : pairs) {
    auto route = graph.Route(graph.Gpu(a), graph.Gpu(b));
    if (!route.ok()) return route.status();
    for (const RouteHop& hop : *route) crossed[hop.link] = 1;
  }
  const auto& devices = graph.devices();
  auto server_of = [&](int g) { return devices[graph.Gpu(g)].server; };
  for (int g : offloading) {
    auto route = graph.Route(graph.Gpu(g), graph.Cpu(server_of(g)));
    if (!route.ok()) return route.status();
    for (const RouteHop& hop : *route) crossed[hop.link] = 1;
  }

  // Hosts, then links, each in the graph's order; then the routes.
  SimgridPlatform p;
  auto* zone = sg4::create_full_zone("cluster");
  p.gpus.assign(n, nullptr);
  for (int g = 0; g < n; ++g) {
    if (!hosted[g]) continue;
    p.gpus[g] = zone->create_host(devices[graph.Gpu(g)].name, kGpuHostWorkPerSecond)->seal();
  }
  p.frontend = zone->create_host("frontend", kGpuHostWorkPerSecond)->seal();
  const auto& links = graph.links();
  p.links.assign(links.size(), nullptr);
  for (size_t i = 0; i < links.size(); ++i) {
    if (!crossed[i]) continue;
    auto* link = zone->create_split_duplex_link(links[i].name, links[i].gb_per_s * 1e9);
    link->set_latency(links[i].latency_us * 1e-6);
    link->seal();
    p.links[i] = link;
  }
  std::vector<sg4::LinkInRoute> hops;
  for (const auto& [a, b] : pairs) {
    hops.clear();
    const auto route = graph.Route(graph.Gpu(a), graph.Gpu(b));  // ok: routed above
    for (const RouteHop& hop : *route) {
      hops.emplace_back(p.links[hop.link], hop.up ? sg4::LinkInRoute::Direction::UP
                                                  : sg4::LinkInRoute::Direction::DOWN);
    }
    zone->add_route(p.gpus[a]->get_netpoint(), p.gpus[b]->get_netpoint(), nullptr, nullptr, hops,
                    /*symmetrical=*/true);
  }
  // Host CPUs of the offloading GPUs' servers, and each GPU's route to its own.
  p.gpu_cpus.assign(n, nullptr);
  const bool ssds = ssd.read_bytes_per_s > 0 && ssd.write_bytes_per_s > 0;
  if (ssds) p.gpu_ssds.assign(n, nullptr);
  std::vector<std::pair<int, sg4::Host*>> cpus;  // (server, host), servers in first-seen order
  for (int g : offloading) {
    const int server = server_of(g);
    auto it = std::find_if(cpus.begin(), cpus.end(),
                           [server](const auto& c) { return c.first == server; });
    if (it == cpus.end()) {
      cpus.emplace_back(
          server,
          zone->create_host(devices[graph.Cpu(server)].name, kGpuHostWorkPerSecond)->seal());
      it = cpus.end() - 1;
      if (ssds) {
        it->second->create_disk("ssd", ssd.read_bytes_per_s, ssd.write_bytes_per_s)->seal();
      }
    }
    p.gpu_cpus[g] = it->second;
    if (ssds) p.gpu_ssds[g] = it->second->get_disks().front();
    hops.clear();
    const auto route = graph.Route(graph.Gpu(g), graph.Cpu(server));  // ok: routed above
    for (const RouteHop& hop : *route) {
      hops.emplace_back(p.links[hop.link], hop.up ? sg4::LinkInRoute::Direction::UP
                                                  : sg4::LinkInRoute::Direction::DOWN);
    }
    zone->add_route(p.gpus[g]->get_netpoint(), it->second->get_netpoint(), nullptr, nullptr, hops,
                    /*symmetrical=*/true);
  }
  zone->seal();
  return p;
}

}  // namespace moesim
