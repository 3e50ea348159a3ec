#include "engine/kv_host_io.h"

#include <algorithm>
#include <utility>

namespace moesim {

KvHostIo::KvHostIo(const FabricSpec& link, double block_bytes, std::vector<int> gpus,
                   const KvStorageSpec* ssd, int gpus_per_server)
    : link_(link),
      block_bytes_(block_bytes),
      gpus_(std::move(gpus)),
      gpus_per_server_(gpus_per_server) {
  if (ssd != nullptr) ssd_ = *ssd;
}

double KvHostIo::SsdSeconds(int64_t reads, int64_t writes) const {
  if (!ssd_ || reads + writes <= 0) return 0.0;
  const double per_block = block_bytes_ * gpus_per_server_;
  const double read = double(reads) * per_block, write = double(writes) * per_block;
  const double r = ssd_->ReadBytesPerSecond(), w = ssd_->WriteBytesPerSecond();
  return std::max({read / r, write / w, (read + write) / std::max(r, w)});
}

std::vector<DiskIo> KvHostIo::DiskIos(int64_t blocks, bool write) const {
  std::vector<DiskIo> ios;
  if (blocks <= 0 || !ssd_) return ios;
  ios.reserve(gpus_.size());
  for (int g : gpus_) ios.push_back({g, write, double(blocks) * block_bytes_});
  return ios;
}

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
  return fabric.StartHostCopies(Copies(blocks, true), {}, Seconds(blocks, true));
}

std::unique_ptr<PendingTransfer> KvHostIo::StartLoads(KvTierStats* stats, Fabric& fabric) const {
  const int64_t blocks = stats->from_host_blocks();
  const int64_t reads = ssd_ ? stats->ssd_load_blocks : 0;
  const int64_t writes = ssd_ ? stats->ssd_write_blocks : 0;
  if (blocks <= 0 && writes <= 0) return nullptr;
  const double gpus = double(gpus_.size());
  stats->from_host_bytes += double(blocks) * block_bytes_ * gpus;
  stats->ssd_read_bytes += double(reads) * block_bytes_ * gpus;
  stats->ssd_write_bytes += double(writes) * block_bytes_ * gpus;
  std::vector<DiskIo> ios = DiskIos(reads, false);
  for (const DiskIo& w : DiskIos(writes, true)) ios.push_back(w);
  return fabric.StartHostCopies(Copies(blocks, false), ios,
                                std::max(Seconds(blocks, false), SsdSeconds(reads, writes)));
}

}  // namespace moesim
