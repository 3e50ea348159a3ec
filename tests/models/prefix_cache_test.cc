// The prefix cache, host and SSD tiers of one KV pool (models/prefix_cache.h): lookups over the
// tiers, sharing, LRU eviction with write-back, pinned loads, swap space, and the invariants.
#include "models/prefix_cache.h"

#include <vector>

#include <catch2/catch.hpp>

namespace moesim {
namespace {

std::vector<uint64_t> Names(uint64_t owner, int64_t n) {
  std::vector<uint64_t> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(BlockHash(owner, i));
  return out;
}

// `n` private blocks taken from the pool and donated, as a finished sequence leaves them.
void Leave(PrefixCache& cache, PagedKvPool& pool, const std::vector<uint64_t>& names) {
  REQUIRE(pool.TryTake(int64_t(names.size())));
  cache.Donate(names, 0, int64_t(names.size()));
}

TEST_CASE("prefix cache: block names depend on owner and position", "[prefix-cache]") {
  CHECK(BlockHash(1, 0) != BlockHash(1, 1));
  CHECK(BlockHash(1, 0) != BlockHash(2, 0));
  CHECK(BlockHash(0, 5) == BlockHash(0, 5));
}

TEST_CASE("prefix cache: a lookup matches the leading run, HBM then host", "[prefix-cache]") {
  PagedKvPool pool(10);
  PrefixCache cache(&pool, 10);
  const auto a = Names(7, 6);
  Leave(cache, pool, a);
  CHECK(cache.Lookup(a).hbm == 6);
  CHECK(cache.Lookup(Names(8, 6)).hbm == 0);
  // A different block in the middle stops the match there.
  auto b = a;
  b[3] = BlockHash(9, 3);
  CHECK(cache.Lookup(b).hbm == 3);
  CHECK(cache.Lookup(b).host == 0);
  // Evicting writes the blocks back (the tail first); they still match, in host.
  CHECK(cache.EvictHbm(2).written == 2);
  CHECK(cache.Lookup(a).hbm == 4);
  CHECK(cache.Lookup(a).host == 2);
  CHECK(cache.EvictHbm(4).written == 4);
  CHECK(pool.used() == 0);
  const PrefixCache::Hit hit = cache.Lookup(a);
  CHECK(hit.hbm == 0);
  CHECK(hit.host == 6);
  cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("prefix cache: referenced blocks are shared and never evicted", "[prefix-cache]") {
  PagedKvPool pool(8);
  PrefixCache cache(&pool, 0);
  const auto a = Names(1, 4);
  Leave(cache, pool, a);
  cache.Acquire(a, 0, 2);
  CHECK(cache.evictable_hbm_blocks() == 2);
  const PrefixCache::Eviction e = cache.EvictHbm(4);
  CHECK(e.freed == 2);
  CHECK(e.written == 0);               // no host tier
  CHECK(cache.dropped_blocks() == 2);  // lost from every tier
  CHECK(cache.Lookup(a).hbm == 2);
  cache.Release(a, 0, 2);
  CHECK(cache.evictable_hbm_blocks() == 2);
  cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("prefix cache: donated duplicates return to the pool", "[prefix-cache]") {
  PagedKvPool pool(8);
  PrefixCache cache(&pool, 0);
  const auto a = Names(3, 3);
  Leave(cache, pool, a);
  REQUIRE(pool.TryTake(3));
  CHECK(cache.Donate(a, 0, 3) == 3);
  CHECK(pool.used() == 3);
  CHECK(cache.hbm_blocks() == 3);
  cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("prefix cache: eviction is least recently released first", "[prefix-cache]") {
  PagedKvPool pool(8);
  PrefixCache cache(&pool, 8);
  const auto old_one = Names(1, 2), new_one = Names(2, 2);
  Leave(cache, pool, old_one);
  Leave(cache, pool, new_one);
  // Reusing the old one makes it the most recent on release.
  cache.Acquire(old_one, 0, 2);
  cache.Release(old_one, 0, 2);
  cache.EvictHbm(2);
  CHECK(cache.Lookup(old_one).hbm == 2);
  CHECK(cache.Lookup(new_one).hbm == 0);
  CHECK(cache.Lookup(new_one).host == 2);
}

TEST_CASE("prefix cache: a full host tier drops its least recent block, never a pinned one",
          "[prefix-cache]") {
  PagedKvPool pool(8);
  PrefixCache cache(&pool, 2);
  const auto a = Names(1, 2), b = Names(2, 1);
  Leave(cache, pool, a);
  cache.EvictHbm(2);  // a[0], a[1] in host: full
  cache.PinHost(a, 0, 1);
  Leave(cache, pool, b);
  CHECK(cache.EvictHbm(1).written == 1);  // drops a[1] (a[0] is pinned)
  CHECK(cache.Lookup(a).host == 1);
  CHECK(cache.host_used() == 2);
  // Loading the pinned block back: the caller takes an HBM block for it.
  REQUIRE(pool.TryTake(1));
  cache.Promote(a, 0, 1);
  CHECK(cache.Lookup(a).hbm == 1);
  cache.Release(a, 0, 1);
  cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("prefix cache: swap space evicts cached host blocks and respects the capacity",
          "[prefix-cache]") {
  PagedKvPool pool(8);
  PrefixCache cache(&pool, 4);
  const auto a = Names(1, 3);
  Leave(cache, pool, a);
  cache.EvictHbm(3);
  CHECK(cache.host_used() == 3);
  CHECK(cache.TakeHostSwap(4));  // the cached blocks give way
  CHECK(cache.host_cached_blocks() == 0);
  CHECK_FALSE(cache.TakeHostSwap(1));  // full of swapped sequences
  CHECK_FALSE(cache.TakeHostSwap(5));
  cache.GiveHostSwap(4);
  CHECK(cache.host_used() == 0);
  cache.Check();  // a broken invariant aborts the test
}

}  // namespace
}  // namespace moesim

namespace moesim {
namespace {

TEST_CASE("prefix cache: host evictions go to SSD, matched after HBM and host", "[prefix-cache]") {
  PagedKvPool pool(10);
  PrefixCache cache(&pool, /*host_blocks=*/2, /*ssd_blocks=*/4);
  const auto a = Names(3, 6);
  Leave(cache, pool, a);
  // Six blocks leave HBM tail first: the host keeps the last two written (the head), the four
  // it dropped on the way went to SSD.
  CHECK(cache.EvictHbm(6).written == 6);
  CHECK(cache.host_cached_blocks() == 2);
  CHECK(cache.ssd_blocks() == 4);
  CHECK(cache.TakeSsdWrites() == 4);
  CHECK(cache.TakeSsdWrites() == 0);
  CHECK(cache.dropped_blocks() == 0);
  const PrefixCache::Hit hit = cache.Lookup(a);
  CHECK(hit.hbm == 0);
  CHECK(hit.host == 2);
  CHECK(hit.ssd == 4);
  cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("prefix cache: SSD hits are pinned while loading, then promoted to HBM",
          "[prefix-cache]") {
  PagedKvPool pool(10);
  PrefixCache cache(&pool, 1, 3);
  const auto a = Names(4, 4);
  Leave(cache, pool, a);
  cache.EvictHbm(4);
  REQUIRE(cache.Lookup(a).host == 1);
  REQUIRE(cache.Lookup(a).ssd == 3);
  cache.PinHost(a, 0, 1);
  cache.PinSsd(a, 1, 3);
  // Another sequence's blocks leave HBM: the host tier's one block is pinned, so they are
  // dropped rather than written (nothing pinned is evicted).
  const auto b = Names(5, 2);
  Leave(cache, pool, b);
  cache.EvictHbm(2);
  CHECK(cache.Lookup(a).ssd == 3);
  CHECK(cache.dropped_blocks() == 2);
  REQUIRE(pool.TryTake(4));
  cache.Promote(a, 0, 1);
  cache.PromoteFromSsd(a, 1, 3);
  const PrefixCache::Hit hit = cache.Lookup(a);
  CHECK(hit.hbm == 4);
  CHECK(cache.hbm_blocks() == 4);
  // The SSD copies stay (inclusive tiers), now evictable again.
  CHECK(cache.ssd_blocks() == 3);
  cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("prefix cache: a full SSD tier drops its least recently used block", "[prefix-cache]") {
  PagedKvPool pool(10);
  PrefixCache cache(&pool, 1, 2);
  for (uint64_t owner = 10; owner < 14; ++owner) {
    Leave(cache, pool, Names(owner, 1));
    cache.EvictHbm(1);
  }
  // Owners 10..13 passed through the one-block host tier: 10 and 11 went to SSD, then 12
  // pushed 10 out (dropped), and 13 is in host.
  CHECK(cache.Lookup(Names(10, 1)).ssd == 0);
  CHECK(cache.Lookup(Names(11, 1)).ssd == 1);
  CHECK(cache.Lookup(Names(12, 1)).ssd == 1);
  CHECK(cache.Lookup(Names(13, 1)).host == 1);
  CHECK(cache.dropped_blocks() == 1);
  cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("prefix cache: a failed instance's cache is lost from every tier", "[prefix-cache]") {
  PagedKvPool pool(8);
  PrefixCache cache(&pool, 4, 4);
  const auto a = Names(1, 6);
  Leave(cache, pool, a);
  CHECK(cache.EvictHbm(3).written == 3);  // three in host DRAM, three still in HBM
  REQUIRE(cache.hbm_blocks() == 3);
  REQUIRE(cache.host_cached_blocks() == 3);
  const int64_t dropped = cache.dropped_blocks();
  cache.Clear();
  CHECK(pool.used() == 0);
  CHECK(cache.hbm_blocks() == 0);
  CHECK(cache.host_cached_blocks() == 0);
  CHECK(cache.ssd_blocks() == 0);
  CHECK(cache.dropped_blocks() == dropped + 6);
  CHECK(cache.Lookup(a).hbm == 0);
  CHECK(cache.Lookup(a).host == 0);
  cache.Check();
}

}  // namespace
}  // namespace moesim
