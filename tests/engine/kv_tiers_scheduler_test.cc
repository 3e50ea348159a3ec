// The instance scheduler with a KV hierarchy (engine/instance_scheduler.h, models/prefix_cache.h):
// prefix hits skip prefill but never the last token, host hits are loaded back, cached blocks
// are evicted before anyone is preempted, swap preemption keeps a sequence's progress, and the
// pool's blocks stay accounted for (private + cached = used).
#include <vector>

#include <catch2/catch.hpp>

#include "../support/tiny_model.h"
#include "engine/instance_scheduler.h"
#include "models/model_spec.h"

namespace moesim {
namespace {

using testing::TinyModel;

struct Fixture {
  explicit Fixture(int64_t hbm_blocks, int64_t host_blocks, bool swap = false)
      : pool(hbm_blocks), cache(&pool, host_blocks) {
    SchedulerConfig c{8, 64, 0};
    c.tiers = &cache;
    c.prefix_caching = true;
    c.swap = swap;
    sched = std::make_unique<InstanceScheduler>(c, fp, &pool);
  }
  // Runs steps until `r` finishes (at most 100).
  void Finish(Request& r) {
    for (int i = 0; i < 100 && !r.finish_s; ++i) {
      sched->Schedule(0);
      sched->Complete(1.0);
    }
    REQUIRE(r.finish_s);
  }
  ModelSpec model = TinyModel();
  KvFootprint fp{model, 1, 4};
  PagedKvPool pool;
  PrefixCache cache;
  std::unique_ptr<InstanceScheduler> sched;
};

Request Turn(uint64_t owner, int64_t prompt, int64_t output) {
  Request r;
  r.prefix_owner = owner;
  r.input_tokens = prompt;
  r.output_tokens = output;
  return r;
}

TEST_CASE("kv tiers: a session's next turn skips the cached history", "[scheduler][kv-tiers]") {
  Fixture f(100, 0);
  Request t1 = Turn(1, 10, 3);  // KV of 12 tokens when it finishes: 3 full blocks
  f.sched->Enqueue(&t1);
  f.Finish(t1);
  CHECK(f.cache.hbm_blocks() == 3);
  CHECK(f.pool.used() == 3);  // the partial block returned
  f.sched->TakeTiers();
  Request t2 = Turn(1, 13 + 5, 2);  // the history (13) and 5 new tokens
  f.sched->Enqueue(&t2);
  const StepBatch b = f.sched->Schedule(0);
  CHECK(b.prefill_tokens == 18 - 12);
  const KvTierStats s = f.sched->TakeTiers();
  CHECK(s.lookup_tokens == 18);
  CHECK(s.hbm_hit_tokens == 12);
  CHECK(s.load_blocks == 0);
  CHECK(t2.cached_blocks == 3);
  CHECK(f.pool.used() == f.cache.hbm_blocks() + t2.kv_blocks);
  f.sched->Complete(1.0);
  f.Finish(t2);
  CHECK(f.pool.used() == f.cache.hbm_blocks());
  f.cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("kv tiers: a hit never covers the whole prompt", "[scheduler][kv-tiers]") {
  Fixture f(100, 0);
  Request a = Turn(5, 16, 1);
  f.sched->Enqueue(&a);
  f.Finish(a);  // 16 prompt tokens: 4 full blocks cached
  REQUIRE(f.cache.hbm_blocks() == 4);
  Request b = Turn(5, 16, 1);  // the same 16 tokens again
  f.sched->Enqueue(&b);
  const StepBatch batch = f.sched->Schedule(0);
  // At most 15 tokens may hit: 3 whole blocks; the last block's 4 tokens are computed.
  CHECK(batch.prefill_tokens == 4);
  CHECK(f.sched->TakeTiers().hbm_hit_tokens == 12);
}

TEST_CASE("kv tiers: host hits are loaded back and counted", "[scheduler][kv-tiers]") {
  Fixture f(6, 100);
  Request a = Turn(1, 16, 1);
  f.sched->Enqueue(&a);
  f.Finish(a);                     // 4 cached blocks, 2 free
  Request other = Turn(2, 20, 1);  // needs 5 blocks: evicts 3 of a's (written back)
  f.sched->Enqueue(&other);
  f.sched->Schedule(0);
  KvTierStats s = f.sched->TakeTiers();
  CHECK(s.evicted_blocks == 3);
  CHECK(s.write_back_blocks == 3);
  f.sched->Complete(1.0);
  f.Finish(other);
  Request again = Turn(1, 17, 1);
  f.sched->Enqueue(&again);
  f.sched->Schedule(0);
  s = f.sched->TakeTiers();
  CHECK(s.hbm_hit_tokens + s.host_hit_tokens == 16);
  CHECK(s.load_blocks == s.host_hit_tokens / 4);
  CHECK(s.load_blocks > 0);
  CHECK(again.cached_blocks == 4);
  f.cache.Check();  // a broken invariant aborts the test
}

TEST_CASE("kv tiers: swap preemption keeps progress, recompute does not", "[scheduler][kv-tiers]") {
  for (const bool swap : {false, true}) {
    Fixture f(8, swap ? 100 : 0, swap);  // each needs 7 blocks at the end, both 14
    Request a = Turn(1, 8, 20), b = Turn(2, 8, 20);
    f.sched->Enqueue(&a);
    f.sched->Enqueue(&b);
    int64_t swapped = 0, recomputed = 0;
    for (int i = 0; i < 300 && !(a.finish_s && b.finish_s); ++i) {
      f.sched->Schedule(0);
      const KvTierStats s = f.sched->TakeTiers();
      swapped += s.swap_preemptions;
      recomputed += s.recompute_preemptions;
      f.sched->Complete(1.0);
      CHECK(f.pool.used() == f.cache.hbm_blocks() + a.kv_blocks + b.kv_blocks);
      CHECK(f.cache.host_swap_blocks() == a.swapped_blocks + b.swapped_blocks);
    }
    CHECK(a.finish_s);
    CHECK(b.finish_s);
    INFO("swap " << swap);
    CHECK((swap ? swapped : recomputed) > 0);
    CHECK((swap ? recomputed : swapped) == 0);
    if (swap) CHECK(a.prompt_tokens + b.prompt_tokens == 16);  // never re-prefilled
    f.cache.Check();  // a broken invariant aborts the test
  }
}

}  // namespace
}  // namespace moesim
