// Tests for models/kv_cache.h: paged-KV block accounting for full, sliding and linear layers.
#include "models/kv_cache.h"

#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

#include "../support/preset_fixtures.h"
#include "models/model_spec.h"
#include "models/preset_library.h"

namespace moesim {
namespace {

ModelSpec Preset(const std::string& name) { return testing::ModelPreset(name); }

// Full-attention model (Qwen3-30B-A3B, 48 GQA layers): calibration.md §4.2 gives 2048 B per
// token per layer → 48 × 2048 = 98,304 B/token ("96 KiB"), so one 16-token block is
// 1,572,864 B. Block rounding is ceil(tokens / 16): BlocksFor(1) = 1, (16) = 1, (17) = 2,
// (0) = 0. All exact.
TEST_CASE("KvFootprint rounds full-attention sequences up to whole blocks", "[kv_cache]") {
  const ModelSpec m = Preset("Qwen3-30B-A3B");
  const KvFootprint fp(m, /*attention_tp=*/1, /*block_tokens=*/16);
  CHECK(fp.block_tokens() == 16);
  CHECK(fp.BlockBytes() == 48.0 * 2048 * 16);
  CHECK(fp.BlocksFor(0) == 0);
  CHECK(fp.BlocksFor(1) == 1);
  CHECK(fp.BlocksFor(16) == 1);
  CHECK(fp.BlocksFor(17) == 2);
  CHECK(fp.BlocksFor(32) == 2);
  CHECK(fp.BlocksFor(33) == 3);
  CHECK(fp.BlocksFor(1000) == 63);  // ceil(1000/16)
  CHECK(fp.BytesFor(17) == 2.0 * 16 * 48 * 2048);
}

// BlocksInBudget = floor(budget / block bytes), 0 for a non-positive budget. With 1,572,864 B
// blocks: 80e9 B → floor(50,862.630...) = 50,862; exactly 3 blocks → 3; one byte short → 2.
TEST_CASE("KvFootprint::BlocksInBudget", "[kv_cache]") {
  const ModelSpec m = Preset("Qwen3-30B-A3B");
  const KvFootprint fp(m, 1, 16);
  const double block = 48.0 * 2048 * 16;
  CHECK(fp.BlocksInBudget(80e9) == 50862);
  CHECK(fp.BlocksInBudget(3 * block) == 3);
  CHECK(fp.BlocksInBudget(3 * block - 1) == 2);
  CHECK(fp.BlocksInBudget(0) == 0);
  CHECK(fp.BlocksInBudget(-5e9) == 0);
}

// Tensor parallelism shrinks GQA blocks while kv heads split (Qwen3-30B has 4 kv heads, so
// tp=2 halves the per-GPU KV; tp=8 replicates one head per rank: 2·1·128·2 = 512 B/layer,
// calibration.md §4.2). MLA (DeepSeek-V3) is replicated: 61 × 1152 B × 16 at any tp. Exact.
TEST_CASE("KvFootprint block bytes under tensor parallelism", "[kv_cache]") {
  const ModelSpec q = Preset("Qwen3-30B-A3B");
  CHECK(KvFootprint(q, 2, 16).BlockBytes() == 48.0 * 1024 * 16);
  CHECK(KvFootprint(q, 8, 16).BlockBytes() == 48.0 * 512 * 16);
  const ModelSpec v3 = Preset("DeepSeek-V3");
  CHECK(KvFootprint(v3, 1, 16).BlockBytes() == 61.0 * 1152 * 16);
  CHECK(KvFootprint(v3, 8, 16).BlockBytes() == 61.0 * 1152 * 16);
}

// A separate draft model's KV sits in the target's blocks: a block grows by the draft's bytes
// per token (Qwen3-1.7B: 28 layers x 8 kv heads x 128 x 2 (K, V) x 2 B = 114,688 B per token
// at TP1; its 8 kv heads sharded 8 ways at TP8).
TEST_CASE("KvFootprint with a draft model's KV beside the target's", "[kv_cache]") {
  const ModelSpec q = Preset("Qwen3-235B-A22B");
  const ModelSpec d = Preset("Qwen3-1.7B");
  for (int tp : {1, 8}) {
    INFO("tp " << tp);
    KvFootprint fp(q, tp, 16);
    const double before = fp.BlockBytes();
    fp.AddDraftKv(d, tp);
    CHECK(fp.BlockBytes() - before == Approx(114688.0 / tp * 16).epsilon(1e-12));
    CHECK(fp.BytesFor(1000) ==
          Approx(KvFootprint(q, tp, 16).BytesFor(1000) + 63 * 16 * 114688.0 / tp).epsilon(1e-12));
  }
}

// PagedKvPool: TryTake succeeds only when enough blocks are free and leaves the pool unchanged
// otherwise; Give returns blocks and never drives `used` below 0 (models/kv_cache.cc).
TEST_CASE("PagedKvPool TryTake / Give bounds", "[kv_cache]") {
  PagedKvPool pool(100);
  CHECK(pool.total() == 100);
  CHECK(pool.free() == 100);
  CHECK(pool.TryTake(60));
  CHECK(pool.used() == 60);
  CHECK(pool.free() == 40);
  CHECK_FALSE(pool.TryTake(41));
  CHECK(pool.used() == 60);
  CHECK(pool.TryTake(40));
  CHECK(pool.free() == 0);
  CHECK_FALSE(pool.TryTake(1));
  CHECK(pool.TryTake(0));
  pool.Give(30);
  CHECK(pool.used() == 70);
  CHECK(pool.free() == 30);
  pool.Give(70);  // giving back more than is in use stops the run (invariant_test.cc)
  CHECK(pool.used() == 0);
  CHECK(pool.free() == 100);

  PagedKvPool empty(0);
  CHECK_FALSE(empty.TryTake(1));
  CHECK(empty.TryTake(0));
}

// Sliding window (gpt-oss-120b: 18 full + 18 sliding-128 layers, 2048 B/token/layer,
// calibration.md §4.2). A block is 16 tokens of the 18 full layers (589,824 B); the sliding
// layers hold min(tokens, 128) tokens, rounded to 16-token blocks, which cost the same per
// block here. BlocksFor(t) = ceil(t/16) + ceil(min(t,128)/16):
//   t=1 → 1+1 = 2; t=128 → 8+8 = 16; t=1000 → 63+8 = 71; t=100000 → 6250+8 = 6258. Exact.
TEST_CASE("KvFootprint caps sliding-window layers at the window", "[kv_cache]") {
  const ModelSpec m = Preset("gpt-oss-120b");
  const KvFootprint fp(m, 1, 16);
  CHECK(fp.BlockBytes() == 18.0 * 2048 * 16);
  CHECK(fp.BlocksFor(1) == 2);
  CHECK(fp.BlocksFor(128) == 16);
  CHECK(fp.BlocksFor(1000) == 71);
  CHECK(fp.BlocksFor(100000) == 6258);
  // Sliding-only variant: the block is 16 tokens of the sliding layers; a sequence never needs
  // more than 128/16 = 8 blocks.
  ModelSpec sliding = m;
  sliding.attention_pattern = {LayerAttention::kSliding};
  const KvFootprint fs(sliding, 1, 16);
  CHECK(fs.BlockBytes() == 36.0 * 2048 * 16);
  CHECK(fs.BlocksFor(1) == 1);
  CHECK(fs.BlocksFor(128) == 8);
  CHECK(fs.BlocksFor(100000) == 8);
}

// Hybrid linear (Qwen3-Next-80B-A3B): 12 full layers × 2048 B = 24,576 B/token ("24 KiB/token",
// calibration.md §4.2), block = 393,216 B; 36 GDN layers hold a fixed state. With an fp32 state
// (SGLang's dtype) kept in the KV pool: 36 × (24,576 conv elems × 2 B + 524,288 state elems ×
// 4 B) = 77,266,944 B ("≈77 MB") = 196.5 block equivalents. BlocksFor(t) = ceil(ceil(t/16) +
// 196.5): t=1 → 198, t=16 → 198, t=17 → 199, t=1600 → 297. Exact.
TEST_CASE("KvFootprint converts linear-attention state to block equivalents (hybrid)",
          "[kv_cache]") {
  const ModelSpec m = Preset("Qwen3-Next-80B-A3B");
  LinearStateLayout fp32;
  fp32.bytes_per_element = 4;
  const KvFootprint fp(m, 1, 16, 1, fp32);
  CHECK(fp.BlockBytes() == 12.0 * 2048 * 16);
  CHECK(fp.BytesFor(1) == 393216.0 + 77266944.0);
  CHECK(fp.BlocksFor(1) == 198);
  CHECK(fp.BlocksFor(16) == 198);
  CHECK(fp.BlocksFor(17) == 199);
  CHECK(fp.BlocksFor(1600) == 297);
}

// vLLM's hybrid allocator (docs/research/hybrid_amd_overlap.md §A.2): one layer's bf16 state is
// 49,152 + 1,048,576 = 1,097,728 B; one token of one full layer 2,048 B; the attention block grows
// to 16 · ceil(1,097,728 / (16 · 2,048)) = 16 · 34 = 544 tokens (the research notes' "544 tokens at
// TP1 bf16"), and each of the 36 GDN layers takes one padded 544 × 2,048 B page: 3 blocks of the
// 12 full layers. BlocksFor(t) = ceil(t / 544) + 3. Exact.
TEST_CASE("KvFootprint: vLLM page-aligned linear state", "[kv_cache]") {
  const ModelSpec m = Preset("Qwen3-Next-80B-A3B");
  LinearStateLayout vllm;
  vllm.page_aligned = true;
  const KvFootprint fp(m, 1, 16, 1, vllm);
  CHECK(fp.block_tokens() == 544);
  CHECK(fp.BlockBytes() == 12.0 * 2048 * 544);
  CHECK(fp.BlocksFor(1) == 4);
  CHECK(fp.BlocksFor(544) == 4);
  CHECK(fp.BlocksFor(545) == 5);
  CHECK(fp.SeparateStateBytes() == 0);
}

// SGLang keeps the state in its own pool (MambaPool): the KV blocks hold attention only, and the
// per-sequence state (77,266,944 B in fp32) is reported for the separate pool. Exact.
TEST_CASE("KvFootprint: SGLang separate linear-state pool", "[kv_cache]") {
  const ModelSpec m = Preset("Qwen3-Next-80B-A3B");
  LinearStateLayout sglang;
  sglang.bytes_per_element = 4;
  sglang.separate_pool = true;
  const KvFootprint fp(m, 1, 16, 1, sglang);
  CHECK(fp.BlockBytes() == 12.0 * 2048 * 16);
  CHECK(fp.BlocksFor(16) == 1);
  CHECK(fp.BlocksFor(17) == 2);
  CHECK(fp.SeparateStateBytes() == 77266944.0);
}

// Pure linear attention (Qwen3-Next with every layer GDN, 48 layers, fp32 state): no per-token
// KV, so one "block" is the whole per-sequence state (48 × 2,146,304 B = 103,022,592 B) and every
// sequence needs exactly one block regardless of length. Exact.
TEST_CASE("KvFootprint for a pure linear-attention model", "[kv_cache]") {
  ModelSpec m = Preset("Qwen3-Next-80B-A3B");
  m.attention_pattern = {LayerAttention::kLinear};
  LinearStateLayout fp32;
  fp32.bytes_per_element = 4;
  const KvFootprint fp(m, 1, 16, 1, fp32);
  CHECK(fp.BlockBytes() == 48.0 * 2146304.0);
  CHECK(fp.BlocksFor(1) == 1);
  CHECK(fp.BlocksFor(17) == 1);
  CHECK(fp.BlocksFor(1000000) == 1);
  CHECK(fp.BlocksInBudget(10 * 48.0 * 2146304.0) == 10);
}

// Property check of the block rounding for every model preset, tp ∈ {1, 2, 8}, 16-token
// blocks, 0..5000 tokens, against the closed form of models/kv_cache.h:
//   blocks = ceil(ceil(t/16) + ceil(min(t, W)/16)·sliding/full + state/block)
// (full-attention block as the unit; sliding-only models use the sliding block). Exact: catches
// floating-point rounding pushing an exact block count up by one.
TEST_CASE("KvFootprint::BlocksFor equals the closed form for every preset", "[kv_cache]") {
  auto lib = PresetLibrary::Load(MOESIM_SOURCE_DIR "/models/presets");
  REQUIRE(lib.ok());
  for (const std::string& name : lib->Names(PresetKind::kModel)) {
    auto parsed = ParseModelSpec(*lib->Find(PresetKind::kModel, name), {"models.json", "$"}, name);
    REQUIRE(parsed.ok());
    const ModelSpec& m = *parsed;
    for (int tp : {1, 2, 8}) {
      INFO(name << " tp=" << tp);
      const KvFootprint fp(m, tp, 16);
      const double per = m.KvBytesPerTokenPerLayer(tp);
      const double full = per * m.CountLayers(LayerAttention::kFull);
      const double sliding = per * m.CountLayers(LayerAttention::kSliding);
      const double state =
          m.LinearStateBytesPerLayer(tp, 2.0) * m.CountLayers(LayerAttention::kLinear);
      const double block = (full > 0 ? full : sliding) * 16;
      REQUIRE(fp.BlockBytes() == block);
      bool all_match = true;
      for (int64_t t = 0; t <= 5000; ++t) {
        const int64_t full_blocks = full > 0 ? (t + 15) / 16 : 0;
        const int64_t window_blocks = (std::min<int64_t>(t, m.sliding_window_tokens) + 15) / 16;
        const double x = full_blocks + window_blocks * sliding * 16 / block + state / block;
        const int64_t expected = static_cast<int64_t>(std::ceil(x - 1e-12 * x));
        if (fp.BlocksFor(t) != expected) {
          all_match = false;
          FAIL_CHECK("t=" << t << ": got " << fp.BlocksFor(t) << ", expected " << expected);
          break;
        }
      }
      CHECK(all_match);
    }
  }
}

}  // namespace
}  // namespace moesim
