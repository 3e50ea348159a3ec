// The operators of one forward step of a MoE transformer on one GPU of an instance.
//
// A step processes `StepBatch` (decode tokens plus chunked-prefill tokens) through every layer.
// BuildStepProgram() turns it into the per-GPU kernel list of a vLLM-style implementation
// (unfused norms, separate dynamic fp8 activation-quant kernels when the runtime says so, the
// two-kernel fused-MoE of vLLM, all-reduce after attention and after the FFN when TP > 1),
// each kernel with its FLOPs and HBM bytes. The kernel time is the cost model's business
// (kernel_cost.h); the order and the launch overhead are the step executor's.
//
// Identical layers share one op block: `order` lists block indices in execution order, so a
// 61-layer step costs a handful of block builds, not 61.
#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include "models/dtype.h"
#include "models/model_spec.h"
#include "models/runtime_spec.h"

namespace moesim {

// How one instance is split over its GPUs.
struct ParallelPlan {
  int tp = 1;  // attention tensor parallelism (GPUs per pipeline stage)
  int pp = 1;  // pipeline stages; stage s holds layers StageLayers(layers, pp, s)
  // Data-parallel attention (SGLang / DeepSeek style): every GPU of the EP group runs attention
  // for its own sequences (tp = pp = 1) and MoE layers dispatch tokens to the experts' GPUs and
  // combine them back with all-to-alls instead of an all-reduce.
  bool dp_attention = false;

  // Routed experts: the tp GPUs of a stage form ep expert-parallel groups of tp / ep GPUs; each
  // group holds routed_experts / ep whole experts (plus its redundant replicas), every expert's
  // intermediate dimension split tp / ep ways inside the group (SGLang / vLLM moe_tp_size).
  // ep == tp: whole experts per GPU; ep == 1: every expert split tp ways. Under DP attention ep
  // is the group size and experts are whole.
  int ep = 1;
  // Dense FFN layers and shared experts split dense_tp ways (SGLang moe_dense_tp_size); 0: tp.
  int dense_tp = 0;
  // Redundant expert slots over the whole group (EPLB), spread evenly over the ep ranks.
  int redundant_experts = 0;

  // Attention/FFN disaggregation (engine/afd_instance.h): which weights a GPU of the plan holds,
  // for its memory. The attention side holds attention, dense layers, embeddings, the router
  // and (unless they sit with the experts) the shared experts; the expert side the routed
  // experts over ep ranks (and the shared experts when they sit there).
  enum class Holds { kAll, kAttentionSide, kExpertSide };
  Holds holds = Holds::kAll;
  bool shared_on_expert_side = false;

  int MoeTp() const { return dp_attention ? 1 : tp / ep; }
  int DenseTp() const { return dense_tp > 0 ? dense_tp : tp; }
};

// What one step of one instance processes.
struct StepBatch {
  int64_t decode_seqs = 0;     // sequences generating one token
  int64_t prefill_tokens = 0;  // prompt tokens processed this step (chunked prefill)
  int64_t prefill_seqs = 0;    // sequences contributing prefill tokens
  int64_t sampled_seqs = 0;    // sequences that sample a token at the end of the step
  // Speculative decoding: draft tokens verified this step (k per decoding sequence), processed
  // beside each decoding sequence's own token, each with its logits.
  int64_t speculative_tokens = 0;
  // Full-attention layers: Σ over sequences of (new tokens × tokens attended) and of tokens
  // whose KV is read.
  double full_pairs = 0;
  double full_kv_tokens = 0;
  // Same for sliding-window layers (attended tokens capped at the window).
  double sliding_pairs = 0;
  double sliding_kv_tokens = 0;
  // The prefill tokens' share of the four sums above (what a speculative draft network's pass
  // over this step's prompt tokens attends to).
  double prefill_full_pairs = 0;
  double prefill_full_kv_tokens = 0;
  double prefill_sliding_pairs = 0;
  double prefill_sliding_kv_tokens = 0;

  int64_t tokens() const { return decode_seqs + speculative_tokens + prefill_tokens; }
  int64_t seqs() const { return decode_seqs + prefill_seqs; }
  // Every field, for comparing or keying batches (list any field added above here too).
  auto Fields() const {
    return std::make_tuple(decode_seqs, prefill_tokens, prefill_seqs, sampled_seqs,
                           speculative_tokens, full_pairs, full_kv_tokens, sliding_pairs,
                           sliding_kv_tokens, prefill_full_pairs, prefill_full_kv_tokens,
                           prefill_sliding_pairs, prefill_sliding_kv_tokens);
  }
};

// The kernel class of an op (models/kernel_table.h says how each class costs time).
// kMoe: one fused-MoE block (align, permute, grouped gate-up and down GEMMs, activation,
// combine). kAllToAll: MoE dispatch or combine among the EP ranks (DP-attention deployments);
// message_bytes is what this rank sends (dispatch) or receives (combine).
enum class OpClass { kGemm, kMoe, kAttention, kElementwise, kAllReduce, kAllToAll };

// Weight format of a GEMM or MoE op: picks the kernel class variant.
enum class GemmFormat { kBf16, kFp8Tensor, kFp8Block, kFp4 };
// Decode-attention kernel family.
enum class AttentionFamily { kGqa, kMla, kLinear };

struct Op {
  const char* name = "";
  OpClass cls = OpClass::kElementwise;
  DType math_dtype = DType::kBf16;  // tensor-core format for GEMM / attention math
  GemmFormat format = GemmFormat::kBf16;
  AttentionFamily attention = AttentionFamily::kGqa;
  double flops = 0;          // per GPU
  double bytes = 0;          // HBM bytes read + written, per GPU (weights included)
  double gemm_rows = 0;      // M of the GEMM; rows per active expert for kMoe
  double local_experts = 0;  // kMoe: expert slots resident on this GPU
  double message_bytes = 0;  // all-reduce: bytes per rank
  int kernels = 1;           // GPU kernels the op stands for (launches, graph nodes)
};

struct StepProgram {
  std::vector<std::vector<Op>> blocks;
  std::vector<int> order;

  int64_t KernelCount() const;  // GPU kernels in execution order, collectives included
  double TotalFlops() const;
  double TotalBytes() const;
  double TotalMessageBytes() const;
};

// Layers [first, end) of pipeline stage `stage` of `stages` (balanced, earlier stages take the
// remainder first).
struct LayerRange {
  int first = 0;
  int end = 0;
};
LayerRange StageLayers(int layers, int stages, int stage);

// The routed-expert work of one MoE layer on its busiest GPU, from a routing sample.
struct MoeLayerLoad {
  double assignments = 0;     // (token, expert) pairs the busiest GPU processes
  double active_experts = 0;  // distinct experts (replicas) it runs
};

// Uniform routing's expected load of the busiest GPU of `ep` that share `moe`'s routed experts
// plus `redundant` replicas (models/routing.h, labelled analytic), for `tokens` tokens. One GPU
// (ep <= 1) holds a slice of every expert: all the pairs and the expected distinct experts.
// Replicas only add slots here (uniform routing needs no rebalancing).
MoeLayerLoad ExpectedBusiestGpuLoad(const MoeSpec& moe, double redundant, int ep, double tokens);

// The kernels one GPU of pipeline stage `stage` runs for `batch`: the embedding on the first
// stage, its layers, the LM head and sampling on the last stage. `moe_loads` (indexed by MoE
// layer ordinal over the whole model), when given, sizes every MoE layer for its busiest GPU
// (stragglers set the layer's time); otherwise uniform routing's expected load is used.
StepProgram BuildStepProgram(const ModelSpec& model, const RuntimeSpec& runtime,
                             const ParallelPlan& plan, const StepBatch& batch, int stage = 0,
                             const std::vector<MoeLayerLoad>* moe_loads = nullptr);

// The ops of one MoE layer between the dispatch and the combine (DP attention; the router and
// the all-reduce otherwise) for `tokens` tokens entering the layer on this GPU: the fused block
// of routed experts sized by `load` (nullptr: uniform routing's expected load), then the shared
// experts. BuildStepProgram emits exactly these ops there.
std::vector<Op> MoeExpertOps(const ModelSpec& model, const RuntimeSpec& runtime,
                             const ParallelPlan& plan, double tokens, const MoeLayerLoad* load);
// The same split by part, for attention/FFN disaggregation: the routed-expert block alone
// (`tokens`: the tokens the GPU received), or the shared experts alone for `tokens` tokens.
std::vector<Op> RoutedExpertOps(const ModelSpec& model, const RuntimeSpec& runtime,
                                const ParallelPlan& plan, double tokens, const MoeLayerLoad& load);
std::vector<Op> SharedExpertOps(const ModelSpec& model, const RuntimeSpec& runtime,
                                const ParallelPlan& plan, double tokens);

// The routed-expert work of one MoE layer on one GPU, counted as one fused block the way
// seed 001 counts it: every activation tensor once (input hidden bf16, scattered fp8 input
// with block scales, GEMM1 bf16 output, SwiGLU+quant fp8 output with scales, GEMM2 bf16
// output, combined bf16 output) and the weights of `active_experts` experts once.
struct ExpertBlockWork {
  double flops = 0;
  double weight_bytes = 0;
  double activation_bytes = 0;
};
// `tokens`: tokens entering the layer; `assignments`: (token, expert) pairs handled by this
// GPU; `active_experts`: distinct experts whose weights this GPU reads; `inter_shard`: the
// fraction of every expert's intermediate dimension this GPU holds (1 under EP).
ExpertBlockWork ExpertBlock(const ModelSpec& model, double tokens, double assignments,
                            double active_experts, double inter_shard);

}  // namespace moesim
