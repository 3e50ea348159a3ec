#include "engine/kv_host_io.h"

#include <utility>

namespace moesim {

KvHostIo::KvHostIo(const FabricSpec& link, double block_bytes, std::vector<int> gpus)
    : link_(link), block_bytes_(block_bytes), gpus_(std::move(gpus)) {}

double KvHostIo::Seconds(int64_t blocks, bool to_host) const {
  if (blocks <= 0) return 0.0;
  const double efficiency =
      to_host ? link_.copy_efficiency_to_host : link_.copy_efficiency_from_host;
  return double(blocks) * block_bytes_ / (efficiency * link_.BytesPerSecond()) +
         link_.latency_us * 1e-6;
}

std::vector<HostCopy> KvHostIo::Copies(int64_t blocks, bool to_host) const {
  const double efficiency =
      to_host ? link_.copy_efficiency_to_host : link_.copy_efficiency_from_host;
  std::vector<HostCopy> copies;
  copies.reserve(gpus_.size());
  for (int g : gpus_) copies.push_back({g, to_host, double(blocks) * block_bytes_ / efficiency});
  return copies;
}

void KvHostIo::Save(KvTierStats* stats, Fabric& fabric) const {
  if (auto saves = StartSaves(stats, fabric)) Wait(*saves, fabric);
}

std::unique_ptr<PendingTransfer> KvHostIo::StartSaves(KvTierStats* stats, Fabric& fabric) const {
  const int64_t blocks = stats->to_host_blocks();
  if (blocks <= 0) return nullptr;
  stats->to_host_bytes += double(blocks) * block_bytes_ * double(gpus_.size());
  return fabric.StartHostCopies(Copies(blocks, true), Seconds(blocks, true));
}

std::unique_ptr<PendingTransfer> KvHostIo::StartLoads(KvTierStats* stats, Fabric& fabric) const {
  const int64_t blocks = stats->from_host_blocks();
  if (blocks <= 0) return nullptr;
  stats->from_host_bytes += double(blocks) * block_bytes_ * double(gpus_.size());
  return fabric.StartHostCopies(Copies(blocks, false), Seconds(blocks, false));
}

}  // namespace moesim
