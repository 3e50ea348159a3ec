// Times a step's KV copies between HBM and host DRAM (engine/kv_tier_stats.h) on the fabric:
// a block is one KV shard on every GPU of the instance, and each GPU copies its shards over its
// own host link (PCIe or Grace C2C), at the link's copy efficiency for that direction
// (models/fabric_spec.h), sharing the link with every other copy in flight on it.
//
// With an SSD tier, each GPU's shards of SSD blocks are read from / written to its server's
// SSDs (one SimGrid disk per server, shared by the server's GPUs, reads and writes sharing the
// drives as SimGrid's S19 disk model does: each direction at most its rate, both together at
// most the larger); in closed form the SSDs are taken to serve every GPU of the server alike
// (exact for an instance filling its servers).
//
// Order within a step (what the instance does):
//  1. Save(): HBM -> host copies (write-backs of evicted cached blocks, swap-outs) run before
//     the step's GPU work, which reuses the blocks they free; the step waits for them.
//  2. StartLoads(): host -> HBM copies (prefix hits in host DRAM or on SSD, swap-ins) start
//     with the step's GPU work and overlap it, layer by layer as SGLang's HiCache loads back;
//     an SSD hit's read into host memory runs side by side with its copy to the GPU (a
//     pipelined staging buffer, as TensorRT-LLM's 64 MiB one), and so do the SSD writes of
//     blocks evicted from host DRAM; the step ends when all are done (an approximation: a
//     layer's attention can start before its own layer's load completes in it; stacks write
//     to SSD asynchronously, a backlog spilling into later steps is not modelled).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "engine/fabric.h"
#include "engine/kv_tier_stats.h"
#include "models/fabric_spec.h"
#include "models/kv_storage.h"

namespace moesim {

class KvHostIo {
 public:
  // `link`: the host fabric (its copy efficiencies must be set); `block_bytes`: one block's
  // shard on one GPU; `gpus`: the instance's GPUs; `ssd`: the servers' SSDs (nullptr: no SSD
  // tier), shared by `gpus_per_server` GPUs.
  KvHostIo(const FabricSpec& link, double block_bytes, std::vector<int> gpus,
           const KvStorageSpec* ssd = nullptr, int gpus_per_server = 1);

  // Copies `stats`' HBM -> host blocks and waits for them; adds their payload to
  // stats->to_host_bytes.
  void Save(KvTierStats* stats, Fabric& fabric) const;
  // The same without waiting (nullptr when there are none): several instances' or ranks' saves
  // side by side, each then waited for with Wait().
  std::unique_ptr<PendingTransfer> StartSaves(KvTierStats* stats, Fabric& fabric) const;
  // Starts `stats`' host -> HBM blocks and SSD reads and writes (nullptr when there are none);
  // adds their payload to stats->from_host_bytes, ssd_read_bytes and ssd_write_bytes. Wait()
  // blocks until they are done.
  std::unique_ptr<PendingTransfer> StartLoads(KvTierStats* stats, Fabric& fabric) const;
  void Wait(PendingTransfer& loads, Fabric& fabric) const { fabric.FinishHostCopies(loads); }

  // Closed-form time of `blocks` copied in one direction on an idle link.
  double Seconds(int64_t blocks, bool to_host) const;
  // Closed-form time of `reads` blocks read from and `writes` written to the SSDs side by side.
  double SsdSeconds(int64_t reads, int64_t writes) const;

 private:
  std::vector<HostCopy> Copies(int64_t blocks, bool to_host) const;
  std::vector<DiskIo> DiskIos(int64_t blocks, bool write) const;

  FabricSpec link_;
  double block_bytes_;
  std::vector<int> gpus_;
  std::optional<KvStorageSpec> ssd_;
  int gpus_per_server_;
};

}  // namespace moesim
