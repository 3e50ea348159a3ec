// Tests for models/model_spec.h: parameter counts, KV bytes and layer layout of the model presets.
//
// Reference numbers come from ../shared/reference/calibration.md §4.1 (architecture table,
// "derived total / active params"), §4.2 (KV-cache bytes per token per layer) and §4.3 (per-layer
// attention and expert sizes), and from seed 004 for the hypothetical 2T model. Each test names
// its source and tolerance.
#include "models/model_spec.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../support/preset_fixtures.h"
#include "models/preset_library.h"

namespace moesim {
namespace {

ModelSpec Preset(const std::string& name) { return testing::ModelPreset(name); }

// calibration.md §4.1 "derived total / active params" (embeddings + untied LM head included,
// 3 matrices per SwiGLU expert).
// Totals: within 1% (the table rounds to 0.1B or to 3-4 significant digits).
// Actives: within 2%. The table rounds actives to one decimal (3.3B, 3.8B: up to ±1.5% by
// rounding alone) and its Qwen3-Next figure omits the gated attention's output gate (q_proj
// doubled: 12 layers × 2048·16·256 = 100.7M extra active parameters, +2.6% of 3.8B before
// rounding; moesim counts it, giving 3.87B, 1.96% above the table's 3.8B).
TEST_CASE("TotalParams and ActiveParams match calibration.md §4.1", "[model_spec]") {
  struct Row {
    const char* name;
    double total, active;
  };
  const Row rows[] = {
      {"DeepSeek-V3", 670.9e9, 37.4e9},       // §4.1: 670.9B / 37.4B (vendor: 671B / 37B)
      {"Kimi-K2", 1026e9, 32.7e9},            // §4.1: 1026B / 32.7B
      {"Qwen3-235B-A22B", 235.0e9, 22.1e9},   // §4.1: 235.0B / 22.1B
      {"Qwen3-30B-A3B", 30.5e9, 3.3e9},       // §4.1: 30.5B / 3.3B
      {"Qwen3-Next-80B-A3B", 79.6e9, 3.8e9},  // §4.1: 79.6B / 3.8B (incl. embeddings)
      {"gpt-oss-120b", 116.8e9, 5.7e9},       // §4.1: 116.8B / 5.7B
      {"Mixtral-8x7B", 46.7e9, 12.9e9},       // §4.1: 46.7B / 12.9B
  };
  for (const Row& row : rows) {
    INFO(row.name);
    const ModelSpec m = Preset(row.name);
    CHECK(m.TotalParams() == Approx(row.total).epsilon(0.01));
    CHECK(m.ActiveParams() == Approx(row.active).epsilon(0.02));
    CHECK(m.ActiveParams() < m.TotalParams());
  }
}

// Seed 004: "a 2T total param FP8 model", "250B active params". Within 1% of 2e12 and 250e9
// (the preset's description derives 2008.3B / 249.5B).
TEST_CASE("Hypothetical-2T-FP8 has 2T total and 250B active parameters", "[model_spec]") {
  const ModelSpec m = Preset("Hypothetical-2T-FP8");
  CHECK(m.TotalParams() == Approx(2e12).epsilon(0.01));
  CHECK(m.ActiveParams() == Approx(250e9).epsilon(0.01));
  CHECK(m.layers == 80);  // seed 004: "say 80 layers"
  CHECK(m.weight_dtype == DType::kFp8);
  CHECK(m.kv_dtype == DType::kFp8);
}

// calibration.md §4.3 "MLA attention params/layer: V3 187.1M, Kimi-K2 101.1M (64 heads); GQA:
// Qwen3-235B 71.3M, ... gpt-oss 26.5M". Within 0.5% (the reference rounds to 0.1M).
TEST_CASE("AttentionParamsPerLayer matches calibration.md §4.3", "[model_spec]") {
  CHECK(Preset("DeepSeek-V3").AttentionParamsPerLayer() == Approx(187.1e6).epsilon(0.005));
  CHECK(Preset("Qwen3-235B-A22B").AttentionParamsPerLayer() == Approx(71.3e6).epsilon(0.005));
  CHECK(Preset("Kimi-K2").AttentionParamsPerLayer() == Approx(101.1e6).epsilon(0.005));
  CHECK(Preset("gpt-oss-120b").AttentionParamsPerLayer() == Approx(26.5e6).epsilon(0.005));
}

// calibration.md §4.3 "Expert size (3·H·I): V3/K2 44.0M, Qwen3-235B 18.9M, Qwen3-30B 4.7M, ...
// gpt-oss 24.9M, Mixtral-8x7B 176M". Within 1% (rounded to 2-3 significant digits). Also the
// exact 3·H·I products from the §4.1 table: 3·7168·2048 = 44,040,192; 3·4096·14336 = 176,160,768.
TEST_CASE("ExpertParams matches calibration.md §4.3", "[model_spec]") {
  CHECK(Preset("DeepSeek-V3").ExpertParams() == Approx(44.0e6).epsilon(0.01));
  CHECK(Preset("Kimi-K2").ExpertParams() == Approx(44.0e6).epsilon(0.01));
  CHECK(Preset("Qwen3-235B-A22B").ExpertParams() == Approx(18.9e6).epsilon(0.01));
  CHECK(Preset("Qwen3-30B-A3B").ExpertParams() == Approx(4.7e6).epsilon(0.01));
  CHECK(Preset("gpt-oss-120b").ExpertParams() == Approx(24.9e6).epsilon(0.01));
  CHECK(Preset("Mixtral-8x7B").ExpertParams() == Approx(176e6).epsilon(0.01));
  CHECK(Preset("DeepSeek-V3").ExpertParams() == 44040192.0);
  CHECK(Preset("Mixtral-8x7B").ExpertParams() == 176160768.0);
}

// calibration.md §4.2, exact byte counts:
//   GQA 2·n_kv·head_dim·b: Qwen3-235B 2·4·128·2 = 2048 B, Qwen3-30B 2048 B, Mixtral-8x7B
//   2·8·128·2 = 4096 B; MLA (512 + 64)·2 = 1152 B BF16, FlashMLA FP8 656 B
//   (512 fp8 + 4 fp32 scales + 64 bf16 RoPE).
TEST_CASE("KvBytesPerTokenPerLayer matches calibration.md §4.2", "[model_spec]") {
  CHECK(Preset("Qwen3-235B-A22B").KvBytesPerTokenPerLayer(1) == 2048.0);
  CHECK(Preset("Qwen3-30B-A3B").KvBytesPerTokenPerLayer(1) == 2048.0);
  CHECK(Preset("Mixtral-8x7B").KvBytesPerTokenPerLayer(1) == 4096.0);
  ModelSpec v3 = Preset("DeepSeek-V3");
  CHECK(v3.kv_dtype == DType::kBf16);
  CHECK(v3.KvBytesPerTokenPerLayer(1) == 1152.0);
  v3.kv_dtype = DType::kFp8;
  CHECK(v3.KvBytesPerTokenPerLayer(1) == 656.0);
  // §4.2 totals: V3 1152 × 61 = 70,272 B/token; Qwen3-235B 2048 × 94 = 188 KiB/token.
  CHECK(Preset("DeepSeek-V3").SequenceKvBytes(1, 1) == 70272.0);
  CHECK(Preset("Qwen3-235B-A22B").SequenceKvBytes(1, 1) == 188.0 * 1024);
  // GQA with FP8 KV: b_kv = 1 (§4.2) → 1024 B.
  ModelSpec q = Preset("Qwen3-235B-A22B");
  q.kv_dtype = DType::kFp8;
  CHECK(q.KvBytesPerTokenPerLayer(1) == 1024.0);
}

// calibration.md §4.2: "with TP, per-GPU = 2·max(1, n_kv/TP)·head_dim·b_kv (KV heads are
// replicated when TP > n_kv)"; MLA "Replicated on every attention-TP rank". Qwen3-235B has 4 kv
// heads of 128: tp=2 → 2·2·128·2 = 1024 B; tp=4 → 2·1·128·2 = 512 B; tp=8 → max(1, 0.5) = 1
// head → 512 B (not 256 B: heads are replicated, not split). Mixtral (8 kv heads) tp=8 → 512 B.
// DeepSeek-V3 stays 1152 B at tp=8. Exact.
TEST_CASE("KV bytes per GPU under tensor parallelism", "[model_spec]") {
  const ModelSpec q = Preset("Qwen3-235B-A22B");
  CHECK(q.KvBytesPerTokenPerLayer(2) == 1024.0);
  CHECK(q.KvBytesPerTokenPerLayer(4) == 512.0);
  CHECK(q.KvBytesPerTokenPerLayer(8) == 512.0);
  CHECK(Preset("Mixtral-8x7B").KvBytesPerTokenPerLayer(8) == 512.0);
  const ModelSpec v3 = Preset("DeepSeek-V3");
  CHECK(v3.KvBytesPerTokenPerLayer(8) == 1152.0);
  CHECK(v3.SequenceKvBytes(1000, 8) == v3.SequenceKvBytes(1000, 1));
}

// calibration.md §4.2, Qwen3-Next linear attention: conv 8192×3 = 24,576 elems BF16 + SSM
// 32×128×128 = 524,288 elems FP32 (SGLang's state dtype) per layer = 2,146,304 B → ×36 GDN
// layers ≈ 77 MB/sequence (77,266,944 B; checked within 1% of 77e6 and exactly), plus full-attn
// KV of 12 layers × 2·2·256·2 = 24 KiB/token (exact). Linear state is sharded by attention TP
// (§4.2). With vLLM's default bf16 state (docs/research/hybrid_amd_overlap.md §A.1) a layer
// holds 49,152 + 1,048,576 B: 39.5 MB per sequence.
TEST_CASE("Qwen3-Next linear-attention state and full-attention KV", "[model_spec]") {
  const ModelSpec m = Preset("Qwen3-Next-80B-A3B");
  CHECK(m.CountLayers(LayerAttention::kLinear) == 36);
  CHECK(m.CountLayers(LayerAttention::kFull) == 12);
  CHECK(m.CountLayers(LayerAttention::kSliding) == 0);
  CHECK(m.AttentionOf(0) == LayerAttention::kLinear);
  CHECK(m.AttentionOf(3) == LayerAttention::kFull);  // every 4th layer (full_attention_interval)
  CHECK(m.LinearStateBytesPerLayer(1, 4.0) == 2146304.0);
  CHECK(36 * m.LinearStateBytesPerLayer(1, 2.0) == 36 * (49152.0 + 1048576.0));
  CHECK(36 * m.LinearStateBytesPerLayer(1, 4.0) == Approx(77e6).epsilon(0.01));
  CHECK(m.KvBytesPerTokenPerLayer(1) * m.CountLayers(LayerAttention::kFull) == 24.0 * 1024);
  // One sequence: 24 KiB per token + the constant state.
  CHECK(m.SequenceKvBytes(0, 1, 4.0) == 36 * 2146304.0);
  CHECK(m.SequenceKvBytes(1000, 1, 4.0) == 1000 * 24576.0 + 36 * 2146304.0);
  CHECK(m.LinearStateBytesPerLayer(2, 4.0) == 2146304.0 / 2);
}

// calibration.md §4.2 sliding window: gpt-oss holds min(ctx, 128) tokens in its 18 sliding
// layers and all tokens in its 18 full layers, 2·8·64·2 = 2048 B per token per layer.
// SequenceKvBytes(1000, tp=1) = 18·1000·2048 + 18·128·2048 = 41,582,592 B. Exact.
TEST_CASE("gpt-oss sliding-window KV bytes", "[model_spec]") {
  const ModelSpec m = Preset("gpt-oss-120b");
  CHECK(m.sliding_window_tokens == 128);
  CHECK(m.CountLayers(LayerAttention::kSliding) == 18);
  CHECK(m.CountLayers(LayerAttention::kFull) == 18);
  CHECK(m.KvBytesPerTokenPerLayer(1) == 2048.0);
  CHECK(m.SequenceKvBytes(1000, 1) == 18.0 * 1000 * 2048 + 18.0 * 128 * 2048);
  CHECK(m.SequenceKvBytes(1000, 1) == 41582592.0);
  // Below the window, sliding layers hold every token: 36 × 100 × 2048.
  CHECK(m.SequenceKvBytes(100, 1) == 36.0 * 100 * 2048);
  // §4.2: the sliding part is constant at 18 × 128 × 2048 B = 4.5 MiB per sequence.
  CHECK(m.SequenceKvBytes(5000, 1) - m.SequenceKvBytes(4000, 1) == 18.0 * 1000 * 2048);
  CHECK(18.0 * 128 * 2048 == 4.5 * 1024 * 1024);
}

// Layer layout, calibration.md §4.1 "dense layers": DeepSeek-V3 first 3 of 61 dense → 58 MoE
// layers; Kimi-K2 first 1 → 60; Qwen3 / Mixtral none → all layers MoE. Exact.
TEST_CASE("IsMoeLayer honours first_dense_layers", "[model_spec]") {
  const ModelSpec v3 = Preset("DeepSeek-V3");
  CHECK(v3.layers == 61);
  CHECK(v3.moe.first_dense_layers == 3);
  CHECK_FALSE(v3.IsMoeLayer(0));
  CHECK_FALSE(v3.IsMoeLayer(2));
  CHECK(v3.IsMoeLayer(3));
  CHECK(v3.IsMoeLayer(60));
  CHECK(v3.MoeLayerCount() == 58);
  CHECK(Preset("Kimi-K2").MoeLayerCount() == 60);
  CHECK(Preset("Qwen3-235B-A22B").MoeLayerCount() == 94);
  CHECK(Preset("Mixtral-8x7B").MoeLayerCount() == 32);
}

// moe_layer_interval (Llama-4 Maverick style, calibration.md §4.1: "MoE every 2nd layer:
// interleave_moe_layer_step=2", 48 layers → 24 MoE + 24 dense). HF Llama-4 puts the MoE block
// on layers step-1, 2·step-1, ... (1, 3, 5, ...). Exact.
TEST_CASE("IsMoeLayer honours moe_layer_interval", "[model_spec]") {
  ModelSpec m = Preset("Mixtral-8x7B");
  m.layers = 48;
  m.moe.moe_layer_interval = 2;
  m.moe.dense_inter = 16384;
  CHECK_FALSE(m.IsMoeLayer(0));
  CHECK(m.IsMoeLayer(1));
  CHECK_FALSE(m.IsMoeLayer(2));
  CHECK(m.IsMoeLayer(47));
  CHECK(m.MoeLayerCount() == 24);
  // A model without routed experts has no MoE layers.
  m.moe.routed_experts = 0;
  CHECK(m.MoeLayerCount() == 0);
}

// WeightBytes: an all-BF16 model stores 2 B per parameter (models/dtype.h), so Mixtral-8x7B's
// weight bytes are exactly 2 × TotalParams (relative 1e-12 for summation order).
TEST_CASE("WeightBytes of an all-BF16 model is twice its parameters", "[model_spec]") {
  const ModelSpec m = Preset("Mixtral-8x7B");
  CHECK(m.WeightBytes() == Approx(2.0 * m.TotalParams()).epsilon(1e-12));
  // gpt-oss-120b: MXFP4 experts (0.53125 B) make it far smaller than 2 B/param; the routed
  // experts alone are 36 × 128 × 24.88M × 0.53125 B = 60.9 GB (§4.3: ~13.2 MB per expert).
  const ModelSpec g = Preset("gpt-oss-120b");
  CHECK(g.WeightBytes() < 1.0 * g.TotalParams());
  CHECK(g.ExpertParams() * WeightBytesPerElement(DType::kFp4) == Approx(13.2e6).epsilon(0.01));
}

// A dense model (a speculative draft model) gives "intermediate_size" instead of "moe": every
// layer a dense FFN. Qwen3-1.7B / Qwen3-0.6B as published (1.7B / 0.6B parameters, tied
// embeddings), Qwen3-32B 32.8B.
TEST_CASE("Dense models: every layer a dense FFN, parameters as published", "[model_spec]") {
  const ModelSpec d = Preset("Qwen3-1.7B");
  CHECK(d.IsDense());
  CHECK(d.MoeLayerCount() == 0);
  CHECK(d.moe.first_dense_layers == d.layers);
  CHECK(d.TotalParams() == d.ActiveParams());
  CHECK(d.TotalParams() / 1e9 == Approx(1.72).epsilon(0.01));
  CHECK(Preset("Qwen3-0.6B").TotalParams() / 1e9 == Approx(0.60).epsilon(0.01));
  CHECK(Preset("Qwen3-32B").TotalParams() / 1e9 == Approx(32.8).epsilon(0.01));
  CHECK(d.WeightBytes() == Approx(2.0 * d.TotalParams()).epsilon(1e-12));
  CHECK_FALSE(Preset("Qwen3-235B-A22B").IsDense());
}

// ParseModelSpec error paths: every message names file and path (models/json_reader.h).
TEST_CASE("ParseModelSpec rejects inconsistent architectures", "[model_spec]") {
  auto lib = PresetLibrary::Load(MOESIM_SOURCE_DIR "/models/presets");
  REQUIRE(lib.ok());
  const nlohmann::json base = *lib->Find(PresetKind::kModel, "Qwen3-235B-A22B");
  const JsonLocation where{"models.json", "$.Qwen3-235B-A22B"};

  struct Case {
    const char* what;
    nlohmann::json value;
    const char* path;
  };
  std::vector<Case> cases;
  {
    nlohmann::json j = base;
    j["attention"]["kv_heads"] = 5;  // 64 % 5 != 0
    cases.push_back({"kv_heads not dividing q_heads", j, "$.Qwen3-235B-A22B.attention.kv_heads"});
  }
  {
    nlohmann::json j = base;
    j["moe"]["top_k"] = 129;
    cases.push_back({"top_k > routed_experts", j, "$.Qwen3-235B-A22B.moe.top_k"});
  }
  {
    nlohmann::json j = base;
    j["hiddden"] = 4096;
    cases.push_back({"unknown key", j, "$.Qwen3-235B-A22B.hiddden"});
  }
  {
    nlohmann::json j = base;
    j["attention_pattern"] = {"sliding", "full"};
    cases.push_back({"sliding without window", j, "$.Qwen3-235B-A22B.sliding_window_tokens"});
  }
  {
    nlohmann::json j = base;
    j["attention_pattern"] = {"full", "global"};
    cases.push_back({"unknown layer kind", j, "$.Qwen3-235B-A22B.attention_pattern[1]"});
  }
  {
    nlohmann::json j = base;
    j["moe"]["first_dense_layers"] = 2;
    cases.push_back({"dense layers without dense_inter", j, "$.Qwen3-235B-A22B.moe.dense_inter"});
  }
  {
    nlohmann::json j = base;
    j["layers"] = 1.5;
    cases.push_back({"fractional layers", j, "$.Qwen3-235B-A22B.layers"});
  }
  {
    nlohmann::json j = base;
    j["kv_dtype"] = "fp16";
    cases.push_back({"unknown dtype", j, "$.Qwen3-235B-A22B.kv_dtype"});
  }
  {
    nlohmann::json j = base;
    j["intermediate_size"] = 12288;  // dense width beside a moe section
    cases.push_back({"intermediate_size with moe", j, "$.Qwen3-235B-A22B.intermediate_size"});
  }
  {
    nlohmann::json j = base;
    j.erase("moe");  // neither a moe section nor a dense width
    cases.push_back({"no FFN", j, "$.Qwen3-235B-A22B.moe"});
  }
  for (const Case& c : cases) {
    INFO(c.what);
    auto m = ParseModelSpec(c.value, where, "x");
    REQUIRE_FALSE(m.ok());
    const std::string msg(m.status().message());
    CHECK_THAT(msg, Catch::Contains("models.json"));
    CHECK_THAT(msg, Catch::Contains(c.path));
  }
}

// ModelSpecToJson round-trips through ParseModelSpec for every preset (all derived figures
// identical: exact).
TEST_CASE("ModelSpecToJson round-trips every model preset", "[model_spec]") {
  auto lib = PresetLibrary::Load(MOESIM_SOURCE_DIR "/models/presets");
  REQUIRE(lib.ok());
  for (const std::string& name : lib->Names(PresetKind::kModel)) {
    INFO(name);
    const ModelSpec m = Preset(name);
    auto again = ParseModelSpec(ModelSpecToJson(m), {"roundtrip", "$"}, name);
    INFO(again.status().message());
    REQUIRE(again.ok());
    CHECK(again->TotalParams() == m.TotalParams());
    CHECK(again->ActiveParams() == m.ActiveParams());
    CHECK(again->WeightBytes() == m.WeightBytes());
    CHECK(again->SequenceKvBytes(1000, 1) == m.SequenceKvBytes(1000, 1));
  }
}

}  // namespace
}  // namespace moesim
