// The SSD tier's I/O (engine/kv_host_io.h) on SimGrid's disk model against its closed form: an
// SSD hit's read runs beside its copy to the GPU, the server's GPUs share its drives, and reads
// and writes share them as SimGrid's S19 disk model does (each direction at most its rate, both
// together at most the larger). Each case runs its own SimGrid engine.
#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "../support/preset_fixtures.h"
#include "engine/kv_host_io.h"
#include "engine/kv_host_io_probe.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

ClusterSpec H200Server() {
  nlohmann::json doc = testing::SmallScenarioJson(1, 1, "layer");
  doc["hardware"] = {{"gpu", "H200"}, {"gpus_per_server", 8}};
  return testing::MustParse(doc).cluster();
}

constexpr double kBytes = 2e9;  // per GPU
const std::vector<int> kServer = {0, 1, 2, 3, 4, 5, 6, 7};

TEST_CASE("SSD tier: a server's reads share its drives, beside the copies to the GPUs",
          "[kv-hierarchy][ssd]") {
  const ClusterSpec cluster = H200Server();
  const KvStorageSpec ssd = testing::KvStoragePreset("dgx-h100-local-nvme");
  HostCopyProbe read{kServer, kBytes};
  read.ssd_read = true;
  const auto s = ProbeHostCopies(cluster, {read}, /*analytic=*/false, &ssd);
  REQUIRE(s.ok());
  // 8 GPUs x 2 GB from 8 drives at 6.4 GB/s: 16 GB / 51.2 GB/s; the PCIe copies (2 GB each at
  // ~50 GB/s) hide beside it.
  CHECK((*s)[0] == Approx(8 * kBytes / ssd.ReadBytesPerSecond()).epsilon(1e-6));
}

TEST_CASE("SSD tier: reads and writes together, SimGrid disks against the closed form",
          "[kv-hierarchy][ssd]") {
  const ClusterSpec cluster = H200Server();
  const KvStorageSpec ssd = testing::KvStoragePreset("dgx-h100-local-nvme");
  HostCopyProbe both{kServer, kBytes};
  both.ssd_read = both.ssd_write = true;
  HostCopyProbe write{{0, 1}, 5e8};
  write.ssd_write = true;
  HostCopyProbe one{{0}, 1e9};
  one.ssd_read = true;
  const std::vector<HostCopyProbe> probes = {both, write, one};
  const auto flows = ProbeHostCopies(cluster, probes, /*analytic=*/false, &ssd);
  REQUIRE(flows.ok());
  auto closed = [&](const HostCopyProbe& p) {
    const KvHostIo io(cluster.host, p.bytes_per_gpu, p.gpus, &ssd, cluster.gpus_per_server);
    return std::max(p.ssd_read ? io.Seconds(1, /*to_host=*/false) : 0.0,
                    io.SsdSeconds(p.ssd_read ? 1 : 0, p.ssd_write ? 1 : 0));
  };
  // 16 GB read and 16 GB written side by side share the drives' larger rate: 32 GB / 51.2.
  CHECK((*flows)[0] == Approx(16 * kBytes / ssd.ReadBytesPerSecond()).epsilon(1e-6));
  // The closed form takes every GPU of the server to do the same I/O: exact when they do
  // (probe 0), an upper bound when fewer GPUs use the drives (probes 1 and 2).
  CHECK(closed(both) == Approx((*flows)[0]).epsilon(1e-6));
  CHECK((*flows)[1] == Approx(2 * 5e8 / ssd.WriteBytesPerSecond()).epsilon(1e-6));
  CHECK(closed(write) == Approx(8 * 5e8 / ssd.WriteBytesPerSecond()).epsilon(1e-6));
  // One GPU reading 1 GB: the drives give 51.2 GB/s, its PCIe link ~50: the copy ends it.
  const KvHostIo io(cluster.host, 1e9, {0});
  CHECK((*flows)[2] == Approx(io.Seconds(1, /*to_host=*/false)).epsilon(1e-6));
  CHECK(closed(one) >= (*flows)[2]);
}

}  // namespace
}  // namespace moesim
