// Unit tests of the per-rank step script (engine/moe_step_script.h): items, the chunks that
// micro-batches alternate, and each compute item's op range around the all-to-alls.
#include <catch2/catch.hpp>

#include "engine/moe_step_script.h"

namespace moesim {
namespace {

Op OpOf(OpClass cls) {
  Op op;
  op.cls = cls;
  return op;
}

TEST_CASE("moe step script: items, chunks and op ranks around dispatch and combine",
          "[moe_step_script]") {
  StepProgram p;
  // Block 0: a dense layer. Block 1: attention, router, dispatch, experts, combine, residual.
  p.blocks.push_back({OpOf(OpClass::kGemm), OpOf(OpClass::kGemm)});
  p.blocks.push_back({OpOf(OpClass::kAttention), OpOf(OpClass::kGemm), OpOf(OpClass::kAllToAll),
                      OpOf(OpClass::kMoe), OpOf(OpClass::kAllToAll), OpOf(OpClass::kElementwise)});
  p.order = {0, 1, 1};
  const StepScript s = MakeScript(p);
  using K = ScriptItem::Kind;
  const std::vector<K> kinds = {K::kCompute, K::kCompute, K::kDispatch, K::kExperts,
                                K::kCombine, K::kCompute, K::kCompute,  K::kDispatch,
                                K::kExperts, K::kCombine, K::kCompute};
  REQUIRE(s.items.size() == kinds.size());
  for (size_t i = 0; i < kinds.size(); ++i) CHECK(s.items[i].kind == kinds[i]);
  CHECK(s.items[3].moe_layer == 0);
  CHECK(s.items[8].moe_layer == 1);
  // Cut after every dispatch and combine.
  const std::vector<std::pair<size_t, size_t>> chunks = {{0, 3}, {3, 5}, {5, 8}, {8, 10}, {10, 11}};
  CHECK(s.chunks == chunks);
  OpPosition b, e;
  ScriptItemRange(s, s.items[0], &b, &e);  // the dense layer, whole
  CHECK((b.order == 0 && b.op == 0 && e.order == 0 && e.op == 2));
  ScriptItemRange(s, s.items[1], &b, &e);  // attention and router, before the dispatch
  CHECK((b.order == 1 && b.op == 0 && e.op == 2));
  ScriptItemRange(s, s.items[5], &b, &e);  // after the combine: the residual
  CHECK((b.order == 1 && b.op == 5 && e.op == 6));
}

TEST_CASE("moe step script: a group launches as a full graph only if every part can",
          "[moe_step_script]") {
  RuntimeSpec r;
  r.mode = ExecutionMode::kCudaGraph;
  r.cuda_graph_max_batch = 64;
  StepBatch small;
  small.decode_seqs = 8;
  small.sampled_seqs = 8;
  StepBatch large = small;
  large.decode_seqs = large.sampled_seqs = 512;
  CHECK(GroupLaunch(r, {{small, small}}) == StepLaunch::kFullGraph);
  CHECK(GroupLaunch(r, {{small}, {large}}) != StepLaunch::kFullGraph);
}

}  // namespace
}  // namespace moesim
