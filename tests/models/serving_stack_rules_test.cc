// The serving stacks' own default rules (models/serving_stack_rules.h), each checked against
// the numbers its source gives (docs/research/serving_stacks.md).
#include "models/serving_stack_rules.h"

#include <catch2/catch.hpp>

#include "../support/preset_fixtures.h"
#include "models/speculative.h"

namespace moesim {
namespace {

RuntimeSpec Stack(StackFamily f) {
  RuntimeSpec r;
  r.family = f;
  return r;
}

GpuSpec WithMemory(double gb) {
  GpuSpec g;
  g.hbm_gb = gb;
  return g;
}

TEST_CASE("vLLM: batch limits follow GPU memory; graphs up to min(2 x max_num_seqs, 512)",
          "[stack_rules]") {
  RuntimeSpec big = Stack(StackFamily::kVllm);
  ResolveRuntimeDefaults(big, testing::GpuPreset("H100"), {});  // 80 GiB >= 70 GiB
  CHECK(big.MaxNumSeqs() == 1024);
  CHECK(big.MaxNumBatchedTokens() == 8192);
  CHECK(big.CudaGraphMaxBatch() == 512);
  RuntimeSpec small = Stack(StackFamily::kVllm);
  ResolveRuntimeDefaults(small, WithMemory(48), {});  // L40S-sized (48 GB)
  CHECK(small.MaxNumSeqs() == 256);
  CHECK(small.MaxNumBatchedTokens() == 2048);
  CHECK(small.CudaGraphMaxBatch() == 256);  // min(512, 512) capped at max_num_seqs
  RuntimeSpec given = Stack(StackFamily::kVllm);
  given.max_num_seqs = 64;  // a scenario's value wins
  ResolveRuntimeDefaults(given, testing::GpuPreset("H200"), {});
  CHECK(given.MaxNumSeqs() == 64);
  CHECK(given.CudaGraphMaxBatch() == 64);
}

TEST_CASE("SGLang: chunk, graph cap and mem_fraction_static from GPU memory and TP",
          "[stack_rules]") {
  // H200 (141 GiB) TP8: chunk 8192, graph bs 512; reserved = 512 + 1.5 x 8192 + 2 x 512 +
  // 8 / 8 x 1024 = 14,848 MiB of 144,384 MiB -> 0.897 (research notes' worked example).
  RuntimeSpec r = Stack(StackFamily::kSglang);
  StackPlanShape tp8;
  tp8.tp_size = 8;
  ResolveRuntimeDefaults(r, testing::GpuPreset("H200"), tp8);
  CHECK(r.MaxNumBatchedTokens() == 8192);
  CHECK(r.CudaGraphMaxBatch() == 512);
  CHECK(r.MemoryFraction() == Approx(0.897));
  // TP1 on H100 (80 GiB): graph bs 256; reserved 512 + 12,288 + 512 + 128 = 13,440 MiB.
  RuntimeSpec h100 = Stack(StackFamily::kSglang);
  ResolveRuntimeDefaults(h100, testing::GpuPreset("H100"), {});
  CHECK(h100.CudaGraphMaxBatch() == 256);
  CHECK(h100.MemoryFraction() == Approx((81920.0 - 13440) / 81920).margin(0.0005));
  // B200 (180 GiB): chunk 16384 and graph bs 512 whatever the TP.
  RuntimeSpec b200 = Stack(StackFamily::kSglang);
  ResolveRuntimeDefaults(b200, testing::GpuPreset("B200"), {});
  CHECK(b200.MaxNumBatchedTokens() == 16384);
  CHECK(b200.CudaGraphMaxBatch() == 512);
}

TEST_CASE("SGLang: max_running_requests from the KV pool", "[stack_rules]") {
  RuntimeSpec r = Stack(StackFamily::kSglang);
  ResolveRunningCap(r, /*kv tokens=*/1000000, /*context=*/163840);
  CHECK(r.MaxNumSeqs() == 3125);  // 1e6 / 163840 x 512 = 3125, within [2048, 4096]
  RuntimeSpec small = Stack(StackFamily::kSglang);
  ResolveRunningCap(small, 3000, 40960);
  CHECK(small.MaxNumSeqs() == 1500);  // capped at kv tokens / 2
  RuntimeSpec vllm = Stack(StackFamily::kVllm);
  vllm.max_num_seqs = 1024;
  ResolveRunningCap(vllm, 3000, 40960);  // other stacks: unchanged
  CHECK(vllm.MaxNumSeqs() == 1024);
}

TEST_CASE("TensorRT-LLM and ATOM defaults", "[stack_rules]") {
  RuntimeSpec trt = Stack(StackFamily::kTrtllm);
  ResolveRuntimeDefaults(trt, testing::GpuPreset("B200"), {});
  CHECK(trt.MaxNumSeqs() == 2048);
  CHECK(trt.MaxNumBatchedTokens() == 8192);
  CHECK(trt.CudaGraphMaxBatch() == 128);
  RuntimeSpec atom = Stack(StackFamily::kAtom);
  ResolveRuntimeDefaults(atom, testing::GpuPreset("MI355X"), {});
  CHECK(atom.MaxNumSeqs() == 512);
  CHECK(atom.MaxNumBatchedTokens() == 16384);
  CHECK(atom.CudaGraphMaxBatch() == 512);
}

// Whether the host still overlaps the GPU when a pool decodes speculatively with `method`.
bool OverlapsWhileDrafting(const std::string& preset, std::optional<DraftMethod> method,
                           std::optional<SpeculativeOverlap> given = std::nullopt) {
  RuntimeSpec r = testing::RuntimePreset(preset);
  if (given) r.speculative_host_overlap = *given;
  StackPlanShape shape;
  shape.tp_size = 8;
  shape.speculative = method;
  ResolveRuntimeDefaults(r, testing::GpuPreset("H200"), shape);
  return r.host_overlap;
}

TEST_CASE("Speculative decoding turns a stack's host overlap off where its source says so",
          "[stack_rules]") {
  // Every preset overlaps its host work with the GPU while it does not speculate.
  for (const char* stack : {"vllm", "sglang", "trtllm", "atom"}) {
    INFO(stack);
    CHECK(OverlapsWhileDrafting(stack, std::nullopt));
  }
  // SGLang 0.5.x: EAGLE / MTP set disable_overlap_schedule unless SGLANG_ENABLE_SPEC_V2, which
  // a scenario states as speculative_host_overlap "mtp" (an EAGLE-3 head stays serial).
  CHECK_FALSE(OverlapsWhileDrafting("sglang", DraftMethod::kMtp));
  CHECK_FALSE(OverlapsWhileDrafting("sglang", DraftMethod::kEagle));
  CHECK(OverlapsWhileDrafting("sglang", DraftMethod::kMtp, SpeculativeOverlap::kMtp));
  CHECK_FALSE(OverlapsWhileDrafting("sglang", DraftMethod::kEagle, SpeculativeOverlap::kMtp));
  // vLLM 0.14: async scheduling with MTP and EAGLE, not with a separate draft model.
  CHECK(OverlapsWhileDrafting("vllm", DraftMethod::kMtp));
  CHECK(OverlapsWhileDrafting("vllm", DraftMethod::kEagle));
  CHECK_FALSE(OverlapsWhileDrafting("vllm", DraftMethod::kDraftModel));
  CHECK(OverlapsWhileDrafting("trtllm", DraftMethod::kMtp));
  CHECK(OverlapsWhileDrafting("trtllm", DraftMethod::kDraftModel));  // chain drafter
  CHECK(OverlapsWhileDrafting("atom", DraftMethod::kMtp));
  // A stack that never overlaps stays serial whatever the method.
  RuntimeSpec serial = testing::RuntimePreset("vllm");
  serial.host_overlap = false;
  ResolveRuntimeDefaults(serial, testing::GpuPreset("H200"), {});
  CHECK_FALSE(serial.host_overlap);
}

TEST_CASE("SGLang: max_running_requests is the DP-attention group's; 48 when speculating",
          "[stack_rules]") {
  const GpuSpec h200 = testing::GpuPreset("H200");
  StackPlanShape tp8;
  tp8.tp_size = 8;
  StackPlanShape dp8 = tp8;
  dp8.dp_attention = 8;
  // Given: each DP-attention rank schedules its share (max_running_requests // dp_size).
  RuntimeSpec given = testing::RuntimePreset("sglang");
  given.max_num_seqs = 512;
  ResolveRuntimeDefaults(given, h200, dp8);
  CHECK(given.MaxNumSeqs() == 64);
  RuntimeSpec given_tp = testing::RuntimePreset("sglang");
  given_tp.max_num_seqs = 512;
  ResolveRuntimeDefaults(given_tp, h200, tp8);
  CHECK(given_tp.MaxNumSeqs() == 512);
  // Speculating without the flag: reset to 48 for the whole group (server_args.py).
  StackPlanShape spec_tp8 = tp8;
  spec_tp8.speculative = DraftMethod::kMtp;
  RuntimeSpec spec = testing::RuntimePreset("sglang");
  ResolveRuntimeDefaults(spec, h200, spec_tp8);
  CHECK(spec.MaxNumSeqs() == 48);
  CHECK(spec.CudaGraphMaxBatch() == 48);
  StackPlanShape spec_dp8 = dp8;
  spec_dp8.speculative = DraftMethod::kEagle;
  RuntimeSpec spec_dp = testing::RuntimePreset("sglang");
  ResolveRuntimeDefaults(spec_dp, h200, spec_dp8);
  CHECK(spec_dp.MaxNumSeqs() == 6);
  // A given cap wins over the reset; without speculation the KV-pool rule stays open.
  RuntimeSpec spec_given = testing::RuntimePreset("sglang");
  spec_given.max_num_seqs = 256;
  ResolveRuntimeDefaults(spec_given, h200, spec_tp8);
  CHECK(spec_given.MaxNumSeqs() == 256);
  RuntimeSpec plain = testing::RuntimePreset("sglang");
  ResolveRuntimeDefaults(plain, h200, tp8);
  CHECK_FALSE(plain.max_num_seqs.has_value());
  // Other stacks: speculation leaves their caps alone; their caps are per DP rank.
  RuntimeSpec vllm = testing::RuntimePreset("vllm");
  ResolveRuntimeDefaults(vllm, h200, spec_dp8);
  CHECK(vllm.MaxNumSeqs() == 1024);
}

}  // namespace
}  // namespace moesim
