// The prefix cache and host tier of one KV pool (models/prefix_cache.h): lookups over the two
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
  REQUIRE(cache.Check().ok());
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
  REQUIRE(cache.Check().ok());
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
  REQUIRE(cache.Check().ok());
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
  REQUIRE(cache.Check().ok());
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
  REQUIRE(cache.Check().ok());
}

}  // namespace
}  // namespace moesim
