// Each serving stack's own rules for the defaults a runtime preset leaves open.
//
// A stack computes some defaults from the GPU and the plan rather than using constants; moesim
// reproduces those rules here so that a scenario that says nothing gets what the stack would
// pick (docs/research/serving_stacks.md, each rule with its source file):
//
//   vLLM V1 (vllm/engine/arg_utils.py, config/compilation.py):
//     max_num_seqs 1024 and max_num_batched_tokens 8192 on GPUs with >= 70 GiB, else 256 / 2048;
//     CUDA-graph capture cap min(2 x max_num_seqs, 512).
//   SGLang (python/sglang/srt/server_args.py _handle_gpu_memory_settings):
//     chunked_prefill_size 2048 (< 35 GiB), 4096 (< 60), 8192 (< 160), 16384 (>= 160);
//     cuda_graph_max_bs 256 if TP < 4 else 512 below 160 GiB, 512 above;
//     mem_fraction_static = (GPU MiB - reserved) / GPU MiB with reserved = 512 + 1.5 x
//     max(chunk, 2048) + 2 x graph bs + TP x PP / 8 x 1024 MiB (+ 3 x graph bs x DP under DP
//     attention), at least 10 GiB on GPUs over 60 GiB;
//     max_running_requests from the KV pool (ResolveRunningCap below); a given one (or the 48
//     it resets to when speculating, _handle_speculative_decoding) is the DP-attention group's,
//     each rank scheduling max_running_requests // DP size.
//   TensorRT-LLM (llmapi/llm_args.py, builder.py): max_batch_size 2048, max_num_tokens 8192,
//     CUDA graphs up to batch 128.
//   ATOM (atom/config.py): max_num_seqs 512, max_num_batched_tokens 16384, graphs up to 512.
//   Every stack: a pool that decodes speculatively keeps host_overlap only under the methods
//   its speculative_host_overlap names (SGLang's default EAGLE path turns its overlap scheduler
//   off; vLLM keeps async scheduling for MTP and EAGLE only).
#pragma once

#include <cstdint>
#include <optional>

#include "models/gpu_spec.h"
#include "models/runtime_spec.h"

namespace moesim {

enum class DraftMethod;  // models/speculative.h

// The plan facts the rules read.
struct StackPlanShape {
  int tp_size = 1;       // the stack's --tp: GPUs of one instance (the whole DP-attention group)
  int pp = 1;            // pipeline stages
  int dp_attention = 1;  // DP-attention ranks (1 without DP attention)
  std::optional<DraftMethod> speculative;  // the pool decodes speculatively with this method
};

// Fills cuda_graph_max_batch, max_num_batched_tokens and memory_fraction, and max_num_seqs for
// every stack but SGLang (whose cap needs the KV capacity: ResolveRunningCap), where the preset
// and the scenario left them open.
void ResolveRuntimeDefaults(RuntimeSpec& runtime, const GpuSpec& gpu, const StackPlanShape& plan);

// SGLang's max_running_requests when not given: min(max(kv_tokens / context_len x 512, 2048),
// 4096, kv_tokens / 2) (model_runner.py _resolve_max_num_reqs). Other stacks: unchanged.
void ResolveRunningCap(RuntimeSpec& runtime, int64_t kv_capacity_tokens,
                       int64_t model_context_tokens);

}  // namespace moesim
