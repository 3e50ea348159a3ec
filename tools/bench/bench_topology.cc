// Benchmark: topology and collective costs (issue "cluster topology and fabrics").
//
//  1. Build the graph of a 4,096-GPU cluster (64 racks × 8 servers × 8 H200, IB NDR, NVLink4)
//     and route every GPU to three others (read off the structure, nothing kept per source):
//     wall time and peak RSS.
//     Target: < 2 s and < 2 GiB.
//  2. One analytic all-to-all over 256 GPUs (routes resolved once, then costed): target < 5 ms.
//  3. One isolated all-to-all at 8, 64 and 256 GPUs at each collective fidelity (analytic,
//     SimGrid parallel task, SimGrid per-GPU flows), each in its own process: wall time of the
//     simulation and the simulated duration.
//
//   ./build/bench_topology
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "engine/collective_probe.h"
#include "engine/subprocess.h"
#include "models/preset_library.h"
#include "topology/cluster_graph.h"
#include "topology/collective_pattern.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

}  // namespace

int main() {
  auto lib = moesim::PresetLibrary::Load(moesim::PresetLibrary::DefaultDir());
  if (!lib.ok()) {
    std::fprintf(stderr, "%s\n", std::string(lib.status().message()).c_str());
    return 2;
  }
  auto fabric = [&](const char* name) {
    return *moesim::ParseFabricSpec(*lib->Find(moesim::PresetKind::kFabric, name),
                                    {"fabrics.json", "$"}, name);
  };
  moesim::ClusterSpec spec;
  spec.gpus_per_server = 8;
  spec.servers_per_rack = 8;
  spec.racks = 64;
  spec.nics_per_server = 8;
  spec.scaleup = fabric("nvlink4");
  spec.scaleout = fabric("ib-ndr-400");
  spec.interrack = fabric("ib-ndr-400");
  spec.host = fabric("pcie5-x16");

  // 1. Build and route 4,096 GPUs.
  auto t0 = std::chrono::steady_clock::now();
  auto graph = moesim::ClusterGraph::Build(spec);
  if (!graph.ok()) return 1;
  const double build_s = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  long hops = 0;
  for (int a = 0; a < graph->gpu_count(); ++a) {
    for (int b : {0, graph->gpu_count() - 1, (a + 4095) % graph->gpu_count()}) {
      auto r = graph->Route(graph->Gpu(a), graph->Gpu(b));
      if (!r.ok()) return 1;
      hops += static_cast<long>(r->size());
    }
  }
  const double route_s = Seconds(t0);
  std::printf("4096-GPU cluster (64 racks x 8 servers x 8 GPUs): %zu devices, %zu links\n",
              graph->devices().size(), graph->links().size());
  std::printf(
      "  build %.3f s, routes from every GPU %.3f s, total %.3f s, peak RSS %.0f MiB"
      " (checksum %ld hops)\n",
      build_s, route_s, build_s + route_s, PeakRssMiB(), hops);

  // 2. Analytic all-to-all over 256 GPUs.
  std::vector<int> gpus(256);
  for (int i = 0; i < 256; ++i) gpus[i] = i * 16;  // spread over 32 racks
  t0 = std::chrono::steady_clock::now();
  auto a2a = moesim::CollectivePattern::AllToAll(*graph, gpus);
  if (!a2a.ok()) return 1;
  const double pattern_s = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  const int repeats = 20;
  double simulated = 0;
  for (int i = 0; i < repeats; ++i) simulated = a2a->Estimate(256 * 7168.0 * 128, 0).seconds;
  const double estimate_s = Seconds(t0) / repeats;
  std::printf(
      "analytic all-to-all over 256 GPUs: routes %.2f ms once, cost %.3f ms per call "
      "(simulated %.1f us)\n\n",
      pattern_s * 1e3, estimate_s * 1e3, simulated * 1e6);

  // 3. Fidelity costs at 8, 64, 256 GPUs (one process each).
  std::printf("%6s %-10s %14s %14s\n", "GPUs", "fidelity", "wall ms", "simulated us");
  for (int n : {8, 64, 256}) {
    moesim::ClusterSpec c = spec;
    c.servers_per_rack = 4;
    c.racks = std::max(1, n / 32);
    if (n == 8) c.servers_per_rack = 1;
    for (moesim::CollectiveFidelity f :
         {moesim::CollectiveFidelity::kAnalytic, moesim::CollectiveFidelity::kPtask,
          moesim::CollectiveFidelity::kFlows}) {
      auto out = moesim::RunInSubprocesses(
          {[&]() -> absl::StatusOr<std::string> {
            auto r = moesim::ProbeCollective(
                c,
                [n](const moesim::ClusterGraph& g) {
                  std::vector<int> group(n);
                  for (int i = 0; i < n; ++i) group[i] = i;
                  return moesim::CollectivePattern::AllToAll(g, group);
                },
                n * 7168.0 * 128, 0.0, f);
            if (!r.ok()) return r.status();
            return std::to_string(r->wall_s) + " " + std::to_string(r->simulated_s);
          }},
          1);
      if (!out[0].ok()) return 1;
      double wall = 0, sim = 0;
      std::sscanf(out[0]->c_str(), "%lf %lf", &wall, &sim);
      std::printf("%6d %-10s %14.3f %14.1f\n", n, moesim::CollectiveFidelityName(f), wall * 1e3,
                  sim * 1e6);
    }
  }
  return 0;
}
