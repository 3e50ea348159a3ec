// The serving stack on one GPU server (vLLM, SGLang, TensorRT-LLM, ATOM): how its host spends
// time each step, how kernels are launched, how memory is budgeted, how batches are formed and
// which kernels it fuses.
//
// Values come from runtime presets (models/presets/runtimes.json, each with its source and the
// stack version it describes) with scenario overrides under "runtime". Some defaults of a stack
// depend on the GPU and the plan (SGLang's CUDA-graph batch cap and prefill chunk follow GPU
// memory and TP; vLLM's batch limits follow GPU memory): such fields may be left out of a
// preset and are then filled by ResolveRuntimeDefaults() (models/serving_stack_rules.h) with the
// stack's own rule.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/dtype.h"
#include "models/json_reader.h"

namespace moesim {

enum class ExecutionMode {
  kEager,      // every kernel launched from the host: the CPU issues one kernel per launch gap
  kCudaGraph,  // decode batches replay captured CUDA graphs up to the capture cap
};

// Which project's rules give the defaults a preset leaves open.
enum class StackFamily { kVllm, kSglang, kTrtllm, kAtom };

// How a step is formed when prompts wait (docs/research/serving_stacks.md §0).
enum class Batching {
  kMixed,         // prefill chunks ride along with the decode tokens of one step (vLLM, TRT-LLM)
  kPrefillFirst,  // a waiting prompt gets its own prefill step; decodes wait (SGLang, ATOM)
};

// What the memory fraction is a fraction of (docs/research/serving_stacks.md §0).
enum class MemoryFractionOf {
  kTotal,                 // vLLM gpu_memory_utilization, ATOM: weights + activations + KV
  kWeightsAndKv,          // SGLang mem_fraction_static: weights + KV pool only
  kFreeAfterActivations,  // TRT-LLM free_gpu_memory_fraction: of what weights and peak leave
};

// Which speculative-decoding methods keep host_overlap on (a stack may turn its overlap
// scheduler off while it speculates: SGLang's default EAGLE path, vLLM's non-EAGLE drafters).
enum class SpeculativeOverlap {
  kNone,         // none: the host runs serially with the GPU whenever the pool speculates
  kMtp,          // MTP layers only
  kMtpAndEagle,  // MTP layers and EAGLE heads; a separate draft model turns overlap off
  kAll,          // every method
};
const char* SpeculativeOverlapName(SpeculativeOverlap o);

// How a step that a full CUDA graph cannot cover (prefill tokens, or more sequences than the
// capture cap) launches its kernels.
// How a DP-attention group without an all-to-all kernel gathers its tokens for tensor-sharded
// or replicated experts and scatters the outputs back ("moe_dispatch": "gather").
enum class DpGather {
  // SGLang dp_attention.py: a decode step all-gathers every rank's bf16 hidden states padded to
  // the largest rank's tokens (MAX_LEN) and reduce-scatters as much back; a step with prompt
  // tokens all-reduces a buffer of the group's summed tokens each way (SUM_LEN).
  kMaxLen,
  // TensorRT-LLM (and vLLM's all_gatherv backends): every step all-gathers each rank's own
  // tokens as the expert kernel takes them (nvfp4 with its scales for fp4 experts, else bf16)
  // with their top-k expert ids and weights, and reduce-scatters the bf16 outputs back.
  kSizes,
};
const char* DpGatherName(DpGather g);  // "max_len", "sizes"

enum class UncapturedLaunch {
  kEager,      // every kernel from the host
  kPiecewise,  // vLLM FULL_AND_PIECEWISE: graph pieces between attention layers, attention eager
};

struct RuntimeSpec {
  std::string name;
  std::string description;
  std::string version;  // the stack release the preset describes
  StackFamily family = StackFamily::kVllm;
  ExecutionMode mode = ExecutionMode::kEager;

  // --- Host work per step (scheduling, input preparation, sampling bookkeeping, output) ---
  // Measured separately per execution mode: eager constants describe eager runs only.
  bool host_overlap = false;  // the host prepares step n+1 while the GPU runs step n
  // Methods under which host_overlap stays on when the pool decodes speculatively (applied by
  // ResolveRuntimeDefaults, which turns host_overlap off for the others).
  SpeculativeOverlap speculative_host_overlap = SpeculativeOverlap::kAll;
  double eager_host_step_us = 0;
  double eager_host_per_seq_us = 0;
  double graph_host_step_us = 0;
  double graph_host_per_seq_us = 0;

  // --- Kernel launch ---
  double eager_launch_gap_us = 0;           // CPU time between two kernel launches from the host
  double graph_launch_us = 0;               // CPU cost of one CUDA-graph (or graph piece) replay
  std::optional<int> cuda_graph_max_batch;  // largest captured decode batch (resolved)
  UncapturedLaunch uncaptured_launch = UncapturedLaunch::kEager;

  // --- Collectives ---
  double allreduce_latency_us = 0;  // fixed cost of one all-reduce kernel beyond its transfer
  double p2p_latency_us = 0;        // fixed cost of one pipeline-stage send beyond its transfer

  // --- Memory ---
  std::optional<double> memory_fraction;  // resolved (SGLang derives it from its reserve rule)
  MemoryFractionOf memory_fraction_of = MemoryFractionOf::kTotal;
  // Activations, workspaces and non-torch memory (NCCL, CUDA context, graphs) outside weights
  // and KV, where the stack's rule subtracts them (kTotal, kFreeAfterActivations). Absent: the
  // model's activation peak for the token budget plus non_torch_reserve_gb (memory_plan.h).
  std::optional<double> activation_reserve_gb;
  double non_torch_reserve_gb = 0;
  // Bytes per element of a linear-attention layer's recurrent state ("linear_state_dtype":
  // "bf16" 2, "fp32" 4): vLLM keeps the model dtype, SGLang fp32 (research notes §A.1).
  double linear_state_bytes = 2;

  // --- Batching ---
  int kv_block_tokens = 0;          // paged-KV block (page) size in tokens
  std::optional<int> max_num_seqs;  // running-sequence cap (resolved; per DP rank)
  // The running cap the stack sets when it speculates and max_num_seqs was not given (SGLang:
  // 48). Absent: speculation leaves the cap to the stack's usual rule.
  std::optional<int> speculative_max_num_seqs;
  std::optional<int> max_num_batched_tokens;  // token budget per step / prefill chunk (resolved)
  // Prefill/decode disaggregation, decode side: KV tokens of headroom held for every request
  // the decode instance has taken (running, waiting, or with its KV in flight); a request's KV
  // is reserved only if its prompt plus this headroom fits beside all of theirs (SGLang's
  // DecodePreallocQueue, --num-reserved-decode-tokens). Absent: the prompt's blocks fit.
  std::optional<int> decode_reserved_tokens;
  Batching batching = Batching::kMixed;
  DpGather dp_gather = DpGather::kMaxLen;
  // TensorRT-LLM's attention-DP context balancing (attention_dp_config.enable_balance; absent:
  // off, TensorRT-LLM's default). Each iteration the DP-attention ranks all-gather how many
  // context and generation requests they would schedule; context runs only when every rank has
  // context work and a free batch slot (after batching_wait_iters such iterations when every
  // rank also decodes), when timeout_iters iterations have waited, or when some rank has nothing
  // to decode; otherwise the step decodes only (tensorrt_llm/_torch/pyexecutor/py_executor.py
  // _balance_adp_requests). Scenario key "attention_dp_balance": {"timeout_iters",
  // "batching_wait_iters"}; only for a trtllm-family runtime on a DP-attention pool.
  struct AttentionDpBalance {
    int timeout_iters = 50;        // AttentionDpConfig.timeout_iters default (TensorRT-LLM 1.x)
    int batching_wait_iters = 10;  // AttentionDpConfig.batching_wait_iters default
  };
  std::optional<AttentionDpBalance> attention_dp_balance;

  // --- Kernels the stack fuses (each fused pair is one kernel fewer per layer) ---
  bool dynamic_activation_quant = false;  // fp8 GEMMs quantise activations per token
  bool fuse_act_quant = false;            // ...inside the preceding norm / activation kernel
  bool fuse_allreduce_norm = false;       // TP all-reduce + residual add + RMSNorm in one kernel
  bool fuse_qk_norm_rope = false;         // q/k head norms and rotary embedding in one kernel
  // Kernels of one fused-MoE block with bf16 experts (align ... combine); quantised experts add
  // their two activation-quant kernels unless fuse_act_quant.
  int moe_kernels = 0;
  // The stack's own paged GQA / MHA decode-attention kernel, where it differs from the GPU
  // preset's class (measured on TensorRT-LLM's kernels): its floor and the fraction of peak HBM
  // bandwidth it reaches. Absent: the GPU's class.
  std::optional<double> gqa_attention_fixed_us;
  std::optional<double> gqa_attention_hbm_efficiency;

  double MemoryFraction() const { return *memory_fraction; }
  int MaxNumSeqs() const { return *max_num_seqs; }
  int MaxNumBatchedTokens() const { return *max_num_batched_tokens; }
  int CudaGraphMaxBatch() const { return *cuda_graph_max_batch; }
  // Host CPU time of one step with `running` sequences in the current execution mode (seconds).
  double HostStepSeconds(int64_t running) const;
};

const char* ExecutionModeName(ExecutionMode mode);  // "eager", "cuda_graph"
const char* StackFamilyName(StackFamily f);         // "vllm", "sglang", "trtllm", "atom"

absl::StatusOr<RuntimeSpec> ParseRuntimeSpec(const nlohmann::json& value, const JsonLocation& where,
                                             const std::string& name);
nlohmann::json RuntimeSpecToJson(const RuntimeSpec& runtime);

}  // namespace moesim
