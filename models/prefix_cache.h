// The KV blocks of one KV pool beyond those its running sequences hold privately: a block-level
// prefix cache with up to three tiers, HBM (blocks taken from the pool), host DRAM and local SSD
// (capacities in blocks), and the host space of swapped-out sequences. No SimGrid: the instance
// scheduler (engine/instance_scheduler.h) says what moves, the instance times the copies.
//
// Rules (vLLM's V1 prefix cache, SGLang's HiCache; docs/research/kv_hierarchy.md):
//  * only full blocks are cached, as soon as they fill, each named by a hash of its owner and
//    position (BlockHash), so a block matches only when every token before it matches too;
//  * a lookup matches the longest leading run of a prompt's blocks: first in HBM, then in host
//    DRAM only, then on SSD only (those are loaded back before use);
//  * cached HBM blocks referenced by running sequences are shared; unreferenced ones are
//    evictable, least recently released first, a sequence's tail before its head (so a block
//    is not evicted before the blocks after it); with a host tier an evicted block not already
//    there is written back (write-back on eviction), host blocks evicted least recently used
//    first; with an SSD tier a host block evicted and not already there is written to SSD,
//    SSD blocks dropped least recently used first; the lower copies stay when a block is
//    loaded back (the tiers are inclusive);
//  * swapped-out sequences take host space first: cached host blocks give way to them.
//
// Invariants (Check()): every cached HBM block is counted once in the pool's used blocks;
// host cached + swapped blocks never exceed the host capacity, SSD blocks the SSD capacity; a
// pinned or referenced block is never evicted.
//
//   PrefixCache cache(&pool, /*host_blocks=*/1'000'000);
//   PrefixCache::Hit hit = cache.Lookup(hashes);  // then Acquire / PinHost / Promote
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "models/kv_cache.h"

namespace moesim {

// The name of the block at `index` (0-based) of a sequence owned by `owner` (a session, or the
// shared system prompt as owner 0): SplitMix64 of both, so equal names mean equal prefixes.
uint64_t BlockHash(uint64_t owner, int64_t index);

class PrefixCache {
 public:
  // `hbm`: the pool cached HBM blocks are taken from (outlives the cache); `host_blocks`,
  // `ssd_blocks`: the host and SSD tiers' capacities (0: none; an SSD tier needs a host tier).
  PrefixCache(PagedKvPool* hbm, int64_t host_blocks, int64_t ssd_blocks = 0);

  struct Hit {
    int64_t hbm = 0;   // leading blocks cached in HBM
    int64_t host = 0;  // the blocks after those cached in host DRAM only
    int64_t ssd = 0;   // the blocks after those cached on SSD only
  };
  // The longest leading run of `hashes` that is cached.
  Hit Lookup(const std::vector<uint64_t>& hashes) const;

  // References hashes[first, first + n) (all in HBM): they cannot be evicted while referenced.
  void Acquire(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  // Drops one reference of each; a block left unreferenced becomes the most recent evictable.
  void Release(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  // Host blocks about to be loaded back: pinned so that no eviction drops them meanwhile.
  void PinHost(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  void UnpinHost(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  // Pinned host blocks now loaded into `n` HBM blocks the caller took from the pool: they are
  // cached in HBM, referenced once, and unpinned.
  void Promote(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  // The same for SSD blocks: pinned while their read and load are pending, then promoted.
  void PinSsd(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  void UnpinSsd(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  void PromoteFromSsd(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  // A sequence's private blocks holding hashes[first, first + n) pass to the cache: a block
  // already cached in HBM is a duplicate and returns to the pool. Returns the blocks returned.
  int64_t Donate(const std::vector<uint64_t>& hashes, int64_t first, int64_t n);
  // The same for a running sequence's blocks that just filled (vLLM caches a block as soon as it
  // is full): they stay referenced by it (a duplicate's existing copy is referenced instead).
  // Returns the blocks returned to the pool.
  int64_t Register(const std::vector<uint64_t>& hashes);

  struct Eviction {
    int64_t freed = 0;    // HBM blocks given back to the pool
    int64_t written = 0;  // of those, written back to host DRAM
  };
  // Evicts up to `blocks` unreferenced HBM blocks, least recently released first.
  Eviction EvictHbm(int64_t blocks);

  // Host space for a swapped-out sequence: `blocks`, evicting cached host blocks if needed;
  // false (nothing taken) when even then they do not fit.
  bool TakeHostSwap(int64_t blocks);
  void GiveHostSwap(int64_t blocks);

  // Its instance failed (fault injection): every cached block of every tier is lost (counted in
  // dropped_blocks()) and the HBM ones return to the pool. Every sequence must have released
  // its references, pins and swapped blocks first.
  void Clear();

  int64_t hbm_blocks() const { return hbm_blocks_; }  // cached in HBM, referenced or not
  int64_t evictable_hbm_blocks() const { return static_cast<int64_t>(hbm_lru_.size()); }
  int64_t host_cached_blocks() const { return static_cast<int64_t>(host_lru_.size()); }
  int64_t host_swap_blocks() const { return host_swap_; }
  int64_t host_capacity() const { return host_capacity_; }
  int64_t host_used() const { return host_cached_blocks() + host_swap_; }
  int64_t ssd_blocks() const { return static_cast<int64_t>(ssd_lru_.size()); }
  int64_t ssd_capacity() const { return ssd_capacity_; }
  // Blocks written from host DRAM to SSD since the last call (the instance times the writes).
  int64_t TakeSsdWrites() {
    const int64_t n = ssd_written_;
    ssd_written_ = 0;
    return n;
  }
  // Cached blocks lost from every tier so far (evicted from the lowest tier that held them with
  // no room below, or lost with a failed instance).
  int64_t dropped_blocks() const { return dropped_; }

  // The invariants above, each a MOESIM_CHECK (a broken one stops the process naming this file
  // and line with the numbers).
  void Check() const;

 private:
  struct Entry {
    bool in_hbm = false;
    bool in_host = false;
    bool in_ssd = false;
    int refs = 0;                            // running sequences sharing the HBM block
    int host_pins = 0;                       // loads of the host copy in flight
    int ssd_pins = 0;                        // reads of the SSD copy in flight
    std::list<uint64_t>::iterator hbm_pos;   // in hbm_lru_ when in_hbm and refs == 0
    std::list<uint64_t>::iterator host_pos;  // in host_lru_ when in_host
    std::list<uint64_t>::iterator ssd_pos;   // in ssd_lru_ when in_ssd
  };
  // Makes room for one host block by evicting the least recently used unpinned one; false when
  // every host block is pinned or the tier is full of swapped sequences.
  bool FreeHostBlock();
  // Writes `hash`'s block to host DRAM when there is (or can be made) room; false otherwise.
  bool WriteToHost(uint64_t hash, Entry& e);
  // The same for the SSD tier, dropping its least recently used unpinned block when full.
  bool WriteToSsd(uint64_t hash, Entry& e);
  void DropIfEmpty(uint64_t hash);

  PagedKvPool* hbm_;
  int64_t host_capacity_;
  int64_t ssd_capacity_;
  int64_t ssd_written_ = 0;
  int64_t hbm_blocks_ = 0;
  int64_t host_swap_ = 0;
  int64_t dropped_ = 0;
  std::unordered_map<uint64_t, Entry> entries_;
  std::list<uint64_t> hbm_lru_;   // evictable HBM blocks, least recently released first
  std::list<uint64_t> host_lru_;  // host blocks, least recently used first
  std::list<uint64_t> ssd_lru_;   // SSD blocks, least recently used first
};

}  // namespace moesim
