#include "engine/kv_host_io_probe.h"

#include <memory>

#include <simgrid/s4u.hpp>

#include "engine/kv_host_io.h"
#include "engine/simgrid_fabric.h"
#include "topology/cluster_graph.h"
#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

absl::StatusOr<std::vector<double>> ProbeHostCopies(const ClusterSpec& cluster,
                                                    const std::vector<HostCopyProbe>& probes,
                                                    bool analytic, const KvStorageSpec* ssd) {
  const auto engine = StartSimgridEngine("moesim-host-copy-probe", false);
  auto graph = ClusterGraph::Build(cluster);
  if (!graph.ok()) return graph.status();
  std::vector<int> gpus;
  for (const HostCopyProbe& p : probes) gpus.insert(gpus.end(), p.gpus.begin(), p.gpus.end());
  SsdBandwidth disks;
  if (ssd != nullptr) disks = {ssd->ReadBytesPerSecond(), ssd->WriteBytesPerSecond()};
  auto platform = BuildSimgridPlatform(*graph, gpus, /*gpu_pairs=*/{}, gpus, disks);
  if (!platform.ok()) return platform.status();
  SimgridFabric fabric(*platform, CollectiveFidelity::kFlows, analytic,
                       /*kernel_activities=*/false);
  std::vector<double> seconds;
  sg4::Actor::create("host-copy-probe", platform->frontend, [&]() {
    for (const HostCopyProbe& p : probes) {
      // One "block" of the probe's bytes on each GPU.
      const KvHostIo io(cluster.host, p.bytes_per_gpu, p.gpus, ssd, cluster.gpus_per_server);
      KvTierStats stats;
      stats.load_blocks = p.from_host ? 1 : 0;
      stats.write_back_blocks = p.to_host ? 1 : 0;
      stats.ssd_load_blocks = p.ssd_read ? 1 : 0;
      stats.ssd_write_blocks = p.ssd_write ? 1 : 0;
      const double start = fabric.Now();
      std::unique_ptr<PendingTransfer> loads = io.StartLoads(&stats, fabric);
      io.Save(&stats, fabric);
      if (loads) io.Wait(*loads, fabric);
      seconds.push_back(fabric.Now() - start);
    }
  });
  engine->run();
  return seconds;
}

}  // namespace moesim
