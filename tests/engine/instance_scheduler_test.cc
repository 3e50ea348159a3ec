#include "engine/instance_scheduler.h"

#include <catch2/catch.hpp>

#include "models/model_spec.h"

namespace moesim {
namespace {

// A tiny GQA model: 2 layers, 1 kv head of dim 8, bf16: 2*1*8*2 = 32 B/token/layer.
ModelSpec TinyModel() {
  ModelSpec m;
  m.name = "tiny";
  m.layers = 2;
  m.hidden = 16;
  m.vocab = 32;
  m.attention.q_heads = 2;
  m.attention.kv_heads = 1;
  m.attention.head_dim = 8;
  m.moe.routed_experts = 4;
  m.moe.top_k = 2;
  m.moe.expert_inter = 8;
  return m;
}

TEST_CASE("scheduler admits, prefills, decodes and finishes a request", "[scheduler]") {
  const ModelSpec model = TinyModel();
  const KvFootprint fp(model, 1, 4);
  PagedKvPool pool(/*total_blocks=*/100);
  InstanceScheduler s({8, 64, 0}, fp, &pool);
  Request r;
  r.input_tokens = 6;
  r.output_tokens = 3;
  s.Enqueue(&r);
  StepBatch b = s.Schedule();
  CHECK(b.prefill_tokens == 6);
  CHECK(b.sampled_seqs == 1);
  CHECK(s.Complete(1.0).empty());
  CHECK(r.first_token_s == 1.0);
  CHECK(r.generated == 1);
  b = s.Schedule();
  CHECK(b.decode_seqs == 1);
  CHECK(b.full_kv_tokens == 7);  // 6 prompt tokens + the token being decoded
  CHECK(s.Complete(2.0).empty());
  s.Schedule();
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
  s.Schedule();
  s.Complete(1.0);  // a prefilled
  s.Enqueue(&b);
  const StepBatch mixed = s.Schedule();
  CHECK(mixed.decode_seqs == 1);     // a decodes...
  CHECK(mixed.prefill_tokens == 6);  // ...in the same step as b's prompt
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
  StepBatch step = s.Schedule();
  CHECK(step.prefill_tokens == 3);
  s.Complete(1.0);
  step = s.Schedule();  // nothing waits: a decode step
  CHECK(step.decode_seqs == 1);
  CHECK(step.prefill_tokens == 0);
  s.Complete(2.0);
  s.Enqueue(&b);
  step = s.Schedule();  // b waits: prefill only, a's decode waits
  CHECK(step.decode_seqs == 0);
  CHECK(step.prefill_tokens == 4);
  s.Complete(3.0);
  step = s.Schedule();  // b's prompt is part-way: its next chunk, still prefill only
  CHECK(step.decode_seqs == 0);
  CHECK(step.prefill_tokens == 2);
  s.Complete(4.0);
  step = s.Schedule();  // both decode
  CHECK(step.decode_seqs == 2);
  CHECK(a.generated == 2);
}

}  // namespace
}  // namespace moesim
