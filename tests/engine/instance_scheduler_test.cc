#include "engine/instance_scheduler.h"

#include <catch2/catch.hpp>

#include "../support/tiny_model.h"
#include "models/model_spec.h"

namespace moesim {
namespace {

using testing::TinyModel;

TEST_CASE("scheduler admits, prefills, decodes and finishes a request", "[scheduler]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(/*total_blocks=*/100);
  InstanceScheduler s({8, 64, 0}, fp, &pool);
  Request r;
  r.input_tokens = 6;
  r.output_tokens = 3;
  s.Enqueue(&r);
  StepBatch b = s.Schedule(0);
  CHECK(b.prefill_tokens == 6);
  CHECK(b.sampled_seqs == 1);
  CHECK(s.Complete(1.0).empty());
  CHECK(r.first_token_s == 1.0);
  CHECK(r.generated == 1);
  b = s.Schedule(0);
  CHECK(b.decode_seqs == 1);
  CHECK(b.full_kv_tokens == 7);  // 6 prompt tokens + the token being decoded
  CHECK(s.Complete(2.0).empty());
  s.Schedule(0);
  auto done = s.Complete(3.0);
  REQUIRE(done.size() == 1);
  CHECK(r.finish_s == 3.0);
  CHECK(s.pool().used() == 0);
  CHECK_FALSE(s.HasWork());
}

TEST_CASE("mixed batching: a new prompt's chunk rides along with the running decodes",
          "[scheduler]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(100);
  InstanceScheduler s({8, 64, 0, /*prefill_first=*/false}, fp, &pool);
  Request a, b;
  a.input_tokens = b.input_tokens = 6;
  a.output_tokens = b.output_tokens = 5;
  s.Enqueue(&a);
  s.Schedule(0);
  s.Complete(1.0);  // a prefilled
  s.Enqueue(&b);
  const StepBatch mixed = s.Schedule(0);
  CHECK(mixed.decode_seqs == 1);     // a decodes...
  CHECK(mixed.prefill_tokens == 6);  // ...in the same step as b's prompt
}

TEST_CASE("a step without context (attention-DP balancing) only decodes and admits nothing",
          "[scheduler]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(100);
  InstanceScheduler s({8, 4, 0, /*prefill_first=*/false}, fp, &pool);
  Request a, b;
  a.input_tokens = 3;
  b.input_tokens = 6;  // two chunks of the 4-token budget
  a.output_tokens = b.output_tokens = 5;
  s.Enqueue(&a);
  CHECK(s.ContextReady());
  CHECK(s.decoding() == 0);
  s.Schedule(0);
  s.Complete(1.0);  // a prefilled
  CHECK_FALSE(s.ContextReady());
  CHECK(s.decoding() == 1);
  s.Enqueue(&b);
  CHECK(s.ContextReady());  // b waits and its first chunk fits
  const StepBatch held = s.Schedule(1.0, /*allow_context=*/false);
  CHECK(held.decode_seqs == 1);
  CHECK(held.prefill_tokens == 0);
  CHECK(s.running() == 1);  // b not admitted
  s.Complete(2.0);
  const StepBatch first_chunk = s.Schedule(2.0);
  CHECK(first_chunk.prefill_tokens == 3);  // the budget left after a's decode token
  s.Complete(3.0);
  CHECK(s.ContextReady());  // b is part-way through its prompt
  const StepBatch paused = s.Schedule(3.0, /*allow_context=*/false);
  CHECK(paused.prefill_tokens == 0);  // its next chunk waits too
  CHECK(paused.decode_seqs == 1);
  s.Complete(4.0);
  CHECK(b.prefilled == 3);
}

TEST_CASE("prefill-first batching (SGLang): a waiting prompt gets a prefill-only step",
          "[scheduler]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(100);
  InstanceScheduler s({8, 4, 0, /*prefill_first=*/true}, fp, &pool);  // 4-token chunks
  Request a, b;
  a.input_tokens = 3;
  b.input_tokens = 6;
  a.output_tokens = b.output_tokens = 5;
  s.Enqueue(&a);
  StepBatch step = s.Schedule(0);
  CHECK(step.prefill_tokens == 3);
  s.Complete(1.0);
  step = s.Schedule(0);  // nothing waits: a decode step
  CHECK(step.decode_seqs == 1);
  CHECK(step.prefill_tokens == 0);
  s.Complete(2.0);
  s.Enqueue(&b);
  step = s.Schedule(0);  // b waits: prefill only, a's decode waits
  CHECK(step.decode_seqs == 0);
  CHECK(step.prefill_tokens == 4);
  s.Complete(3.0);
  step = s.Schedule(0);  // b's prompt is part-way: its next chunk, still prefill only
  CHECK(step.decode_seqs == 0);
  CHECK(step.prefill_tokens == 2);
  s.Complete(4.0);
  step = s.Schedule(0);  // both decode
  CHECK(step.decode_seqs == 2);
  CHECK(a.generated == 2);
}

TEST_CASE("prefill hand-off: a completed prompt leaves with its blocks until released",
          "[scheduler][disaggregation]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(100);
  InstanceScheduler s({8, 4, 0, false, /*hand_off_prefilled=*/true}, fp, &pool);
  Request r;
  r.input_tokens = 6;
  r.output_tokens = 3;
  s.Enqueue(&r);
  StepBatch b = s.Schedule(0.5);  // chunk of 4 tokens
  CHECK(b.prefill_tokens == 4);
  CHECK(r.handoff.prefill_start_s == 0.5);
  CHECK(s.CompletingPrompts().empty());
  CHECK(s.Complete(1.0).empty());
  CHECK(s.TakeHandedOff().empty());
  b = s.Schedule(1.0);  // the last 2 tokens
  CHECK(b.prefill_tokens == 2);
  CHECK(s.CompletingPrompts() == std::vector<Request*>{&r});
  CHECK(s.Complete(2.0).empty());
  CHECK(s.TakeHandedOff() == std::vector<Request*>{&r});
  CHECK(r.generated == 1);
  CHECK(r.handoff.prefill_end_s == 2.0);
  CHECK_FALSE(r.first_token_s.has_value());  // the user sees it from the decode instance
  CHECK(r.handoff.prefill_blocks == 2);      // 6 tokens in blocks of 4
  CHECK(r.kv_blocks == 0);
  CHECK(pool.used() == 2);  // held while the KV moves
  CHECK_FALSE(s.HasWork());
  s.ReleaseHandedOff(&r);
  CHECK(pool.used() == 0);
  CHECK(r.handoff.prefill_blocks == 0);
}

TEST_CASE("prefill hand-off: a one-token answer finishes on the prefill instance",
          "[scheduler][disaggregation]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(100);
  InstanceScheduler s({8, 64, 0, false, true}, fp, &pool);
  Request r;
  r.input_tokens = 6;
  r.output_tokens = 1;
  s.Enqueue(&r);
  s.Schedule(0);
  CHECK(s.CompletingPrompts().empty());
  CHECK(s.Complete(1.0).size() == 1);
  CHECK(s.TakeHandedOff().empty());
  CHECK(r.first_token_s == 1.0);
  CHECK(pool.used() == 0);
}

TEST_CASE("decode side: reserved blocks, then the transferred request joins when a slot frees",
          "[scheduler][disaggregation]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(5);
  InstanceScheduler s({/*max_num_seqs=*/1, 64, 0}, fp, &pool);
  Request a, b;
  for (Request* r : {&a, &b}) {
    r->input_tokens = r->prompt_tokens = r->prefilled = r->kv_tokens = 6;
    r->generated = 1;
    r->output_tokens = 3;
  }
  CHECK(s.Reserve(&a));  // 2 blocks
  CHECK(a.handoff.decode_blocks == 2);
  CHECK(s.waiting() == 1);  // its KV is moving in
  CHECK(s.Reserve(&b));
  Request c = a;
  c.handoff = {};
  CHECK_FALSE(s.Reserve(&c));  // 1 block left, 2 needed
  CHECK(c.handoff.decode_blocks == 0);
  CHECK(pool.used() == 4);
  s.EnqueueTransferred(&a);
  s.EnqueueTransferred(&b);
  CHECK(a.kv_blocks == 2);
  StepBatch step = s.Schedule(3.0);  // max_num_seqs 1: only a runs
  CHECK(step.decode_seqs == 1);
  CHECK(a.first_token_s == 3.0);
  CHECK_FALSE(b.first_token_s.has_value());
  CHECK(s.running() == 1);
  CHECK(s.waiting() == 1);
  s.Complete(3.1);
  s.Schedule(3.1);
  CHECK(s.Complete(3.2).size() == 1);  // a's third token
  s.Schedule(3.2);
  CHECK(b.first_token_s == 3.2);
}

// SGLang's decode-side preallocation (DecodePreallocQueue): a request's KV is taken only if
// its prompt plus 512 tokens of headroom fits in the free tokens less 512 per request already
// taken. 4-token blocks, 1,000 blocks (4,000 tokens), 1,000-token prompts (250 blocks each).
TEST_CASE("decode side: SGLang's reserved decode tokens hold headroom for every request taken",
          "[scheduler][disaggregation]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  auto make = [](Request* r) {
    r->input_tokens = r->prompt_tokens = r->prefilled = r->kv_tokens = 1000;
    r->generated = 1;
    r->output_tokens = 100;
  };
  PagedKvPool plain_pool(1000), reserving_pool(1000);
  SchedulerConfig plain{64, 4096, 0};
  SchedulerConfig reserving = plain;
  reserving.decode_reserved_tokens = 512;
  InstanceScheduler without(plain, fp, &plain_pool), with(reserving, fp, &reserving_pool);
  Request a[4], b[4];
  int taken_without = 0, taken_with = 0;
  for (int i = 0; i < 4; ++i) {
    make(&a[i]);
    make(&b[i]);
    taken_without += without.Reserve(&a[i]) ? 1 : 0;
    taken_with += with.Reserve(&b[i]) ? 1 : 0;
  }
  // Without: four prompts fill the 4,000 tokens. With: the first needs 1,512 of 4,000; the
  // second 1,512 of 4,000 - 1,000 - 512 = 2,488; the third 1,512 of 2,000 - 1,024 = 976: no.
  CHECK(taken_without == 4);
  CHECK(taken_with == 2);
  CHECK(reserving_pool.used() == 500);  // only the prompts' blocks are taken, not the headroom
  CHECK_FALSE(with.CanReserve(b[2]));
  CHECK(b[2].handoff.decode_blocks == 0);
}

TEST_CASE(
    "speculative decode: k + 1 positions verified, accepted drafts and the bonus token "
    "kept, rejected KV released, never past the output length",
    "[scheduler][speculative]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(100);
  AcceptanceSampler all({1.0, 1.0}, 1);
  SchedulerConfig config{8, 64, 0};
  config.draft_tokens = 2;
  config.acceptance = &all;
  InstanceScheduler s(config, fp, &pool);
  Request r;
  r.input_tokens = 4;
  r.output_tokens = 6;
  s.Enqueue(&r);
  s.Schedule(0);
  s.Complete(1);  // prompt: first token
  CHECK(r.generated == 1);
  StepBatch b = s.Schedule(1);
  CHECK(b.decode_seqs == 1);
  CHECK(b.speculative_tokens == 2);
  CHECK(b.tokens() == 3);
  CHECK(b.full_kv_tokens == 4 + 3);
  s.Complete(2);
  CHECK(r.generated == 4);  // two drafts and the bonus token
  CHECK(r.kv_tokens == 7);
  CHECK(s.last_emitted() == 3);
  s.Schedule(2);
  CHECK(s.Complete(3).size() == 1);  // 6 reached: 2 of the 3 positions kept
  CHECK(r.generated == 6);
  CHECK(s.counts().tokens_emitted == 6);
  CHECK(s.counts().verifications == 2);
  CHECK(s.counts().drafts_accepted == 4);
  CHECK(pool.used() == 0);

  AcceptanceSampler none({0.0, 0.0}, 1);
  config.acceptance = &none;
  InstanceScheduler t(config, fp, &pool);
  Request q;
  q.input_tokens = 3;
  q.output_tokens = 10;
  t.Enqueue(&q);
  t.Schedule(0);
  t.Complete(1);
  CHECK(q.kv_blocks == 1);
  t.Schedule(1);
  CHECK(q.kv_blocks == 2);  // room for 3 + 3 positions while verifying
  t.Complete(2);
  CHECK(q.generated == 2);  // only the bonus token
  CHECK(q.kv_tokens == 4);
  CHECK(q.kv_blocks == 1);  // the rejected positions' block is back
  CHECK(pool.used() == 1);
}

TEST_CASE(
    "prefill-first: a prompt chunk that does not fit waits while the running sequences "
    "decode, instead of evicting them or stalling",
    "[scheduler]") {
  // Regression: with a full cache the chunked prompt used to preempt itself, leaving an empty
  // step, and a one-lane instance then waited for a wake-up that never came.
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(3);  // 12 tokens
  InstanceScheduler s({8, 8, 0, /*prefill_first=*/true}, fp, &pool);
  Request a, b;
  a.input_tokens = 4;
  a.output_tokens = 3;
  b.input_tokens = 12;
  b.output_tokens = 2;
  s.Enqueue(&a);
  s.Enqueue(&b);
  StepBatch step = s.Schedule(0);  // a's prompt and b's first chunk of 4
  CHECK(step.prefill_tokens == 8);
  s.Complete(1);
  CHECK(pool.used() == 2);
  step = s.Schedule(1);  // b's next chunk needs 2 more blocks, 1 is free: a decodes
  CHECK(step.prefill_tokens == 0);
  CHECK(step.decode_seqs == 1);
  CHECK(a.preemptions == 0);
  CHECK(b.preemptions == 0);
  s.Complete(2);
  s.Schedule(2);
  CHECK(s.Complete(3).size() == 1);  // a finishes and frees its block
  step = s.Schedule(3);              // now b's chunk fits
  CHECK(step.prefill_tokens == 8);
}

}  // namespace
}  // namespace moesim
