// Cluster specs for tests: ideal fabrics (protocol efficiency 1) with chosen bandwidths, so that
// expected times are plain bottleneck arithmetic.
#pragma once

#include <string>

#include "topology/cluster_spec.h"

namespace moesim::testing {

inline FabricSpec IdealFabric(const std::string& name, double gb_per_s, double latency_us) {
  FabricSpec f;
  f.name = name;
  f.gb_per_s = gb_per_s;
  f.latency_us = latency_us;
  f.protocol_efficiency = EfficiencyCurve({{1.0, 1.0}});
  return f;
}

// NVLink 450 GB/s (0.5 us per hop), NICs 50 GB/s (1 us), PCIe 64 GB/s (`pcie_latency_us`).
inline ClusterSpec IdealCluster(int gpus_per_server, int servers_per_rack, int racks,
                                double oversubscription = 1.0, double pcie_latency_us = 1.0) {
  ClusterSpec s;
  s.gpus_per_server = gpus_per_server;
  s.servers_per_rack = servers_per_rack;
  s.racks = racks;
  s.nics_per_server = gpus_per_server;
  s.leaf_oversubscription = oversubscription;
  s.scaleup = IdealFabric("nvlink", 450, 0.5);
  s.scaleout = IdealFabric("nic", 50, 1.0);
  s.interrack = IdealFabric("nic", 50, 1.0);
  s.host = IdealFabric("pcie", 64, pcie_latency_us);
  return s;
}

}  // namespace moesim::testing
