// Times a step's KV copies between HBM and host DRAM (engine/kv_tier_stats.h) on the fabric:
// a block is one KV shard on every GPU of the instance, and each GPU copies its shards over its
// own host link (PCIe or Grace C2C), at the link's copy efficiency for that direction
// (models/fabric_spec.h), sharing the link with every other copy in flight on it.
//
// Order within a step (what the instance does):
//  1. Save(): HBM -> host copies (write-backs of evicted cached blocks, swap-outs) run before
//     the step's GPU work, which reuses the blocks they free; the step waits for them.
//  2. StartLoads(): host -> HBM copies (prefix hits in host DRAM, swap-ins) start with the
//     step's GPU work and overlap it, layer by layer as SGLang's HiCache loads back; the step
//     ends when both are done (an approximation: a layer's attention can start before its
//     own layer's load completes in it).
#pragma once

#include <memory>
#include <vector>

#include "engine/fabric.h"
#include "engine/kv_tier_stats.h"
#include "models/fabric_spec.h"

namespace moesim {

class KvHostIo {
 public:
  // `link`: the host fabric (its copy efficiencies must be set); `block_bytes`: one block's
  // shard on one GPU; `gpus`: the instance's GPUs.
  KvHostIo(const FabricSpec& link, double block_bytes, std::vector<int> gpus);

  // Copies `stats`' HBM -> host blocks and waits for them; adds their payload to
  // stats->to_host_bytes.
  void Save(KvTierStats* stats, Fabric& fabric) const;
  // The same without waiting (nullptr when there are none): several instances' or ranks' saves
  // side by side, each then waited for with Wait().
  std::unique_ptr<PendingTransfer> StartSaves(KvTierStats* stats, Fabric& fabric) const;
  // Starts `stats`' host -> HBM blocks (nullptr when there are none); adds their payload to
  // stats->from_host_bytes. Wait() blocks until they are done.
  std::unique_ptr<PendingTransfer> StartLoads(KvTierStats* stats, Fabric& fabric) const;
  void Wait(PendingTransfer& loads, Fabric& fabric) const { fabric.FinishHostCopies(loads); }

  // Closed-form time of `blocks` copied in one direction on an idle link.
  double Seconds(int64_t blocks, bool to_host) const;

 private:
  std::vector<HostCopy> Copies(int64_t blocks, bool to_host) const;

  FabricSpec link_;
  double block_bytes_;
  std::vector<int> gpus_;
};

}  // namespace moesim
