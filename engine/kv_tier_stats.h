// What the KV hierarchy (models/kv_hierarchy.h) did in a step, and summed over steps: prefix
// cache lookups and hits, blocks copied over the host links and to and from SSD and why,
// preemptions by kind, and the time steps waited for the copies. All zero without a "kv_hierarchy"
// section.
#pragma once

#include <algorithm>
#include <cstdint>

namespace moesim {

struct KvTierStats {
  // Prefix cache, over the prompts admitted (first admissions and recomputations alike).
  int64_t lookup_tokens = 0;    // prompt tokens looked up
  int64_t hbm_hit_tokens = 0;   // of those, found in HBM
  int64_t host_hit_tokens = 0;  // found in host DRAM only, and loaded back
  int64_t ssd_hit_tokens = 0;   // found on SSD only, read to host memory and loaded back
  // Blocks copied between HBM and host DRAM (a block is one KV shard on every GPU of the
  // instance; each GPU copies its share over its own host link).
  int64_t load_blocks = 0;        // host -> HBM: prefix hits in host DRAM
  int64_t swap_in_blocks = 0;     // host -> HBM: swapped-out sequences resuming
  int64_t write_back_blocks = 0;  // HBM -> host: cached blocks evicted from HBM
  int64_t swap_out_blocks = 0;    // HBM -> host: preempted sequences swapped out
  int64_t offload_blocks = 0;     // HBM -> host: cold blocks of running sequences (capacity)
  int64_t stream_blocks = 0;      // host -> HBM: offloaded blocks a step attends to
  int64_t ssd_load_blocks = 0;    // SSD -> host -> HBM: prefix hits on SSD
  int64_t ssd_write_blocks = 0;   // host -> SSD: cached blocks evicted from host DRAM
  int64_t evicted_blocks = 0;     // cached HBM blocks evicted (written back, kept or dropped)
  int64_t dropped_blocks = 0;     // of those, lost from every tier
  int64_t swap_preemptions = 0;
  int64_t recompute_preemptions = 0;
  // Filled in by the instance that ran the step.
  double to_host_bytes = 0;  // payload over all of the instance's host links
  double from_host_bytes = 0;
  double ssd_read_bytes = 0;  // payload read from / written to the servers' SSDs
  double ssd_write_bytes = 0;
  double io_wait_s = 0;          // step time beyond its GPU work spent waiting for host copies
  int64_t host_used_blocks = 0;  // host DRAM blocks in use after the step (peak when summed)
  int64_t ssd_used_blocks = 0;   // SSD blocks in use after the step (peak when summed)

  int64_t to_host_blocks() const { return write_back_blocks + swap_out_blocks + offload_blocks; }
  int64_t from_host_blocks() const {
    return load_blocks + swap_in_blocks + stream_blocks + ssd_load_blocks;
  }
  void Add(const KvTierStats& o) {
    lookup_tokens += o.lookup_tokens;
    hbm_hit_tokens += o.hbm_hit_tokens;
    host_hit_tokens += o.host_hit_tokens;
    ssd_hit_tokens += o.ssd_hit_tokens;
    load_blocks += o.load_blocks;
    swap_in_blocks += o.swap_in_blocks;
    write_back_blocks += o.write_back_blocks;
    swap_out_blocks += o.swap_out_blocks;
    offload_blocks += o.offload_blocks;
    stream_blocks += o.stream_blocks;
    ssd_load_blocks += o.ssd_load_blocks;
    ssd_write_blocks += o.ssd_write_blocks;
    evicted_blocks += o.evicted_blocks;
    dropped_blocks += o.dropped_blocks;
    swap_preemptions += o.swap_preemptions;
    recompute_preemptions += o.recompute_preemptions;
    to_host_bytes += o.to_host_bytes;
    from_host_bytes += o.from_host_bytes;
    ssd_read_bytes += o.ssd_read_bytes;
    ssd_write_bytes += o.ssd_write_bytes;
    io_wait_s += o.io_wait_s;
    host_used_blocks = std::max(host_used_blocks, o.host_used_blocks);
    ssd_used_blocks = std::max(ssd_used_blocks, o.ssd_used_blocks);
  }
};

}  // namespace moesim
