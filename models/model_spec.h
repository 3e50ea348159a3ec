// A Mixture-of-Experts transformer: architecture, numeric formats, and derived figures.
//
// Architecture values come from model presets (models/presets/models.json, sourced from the
// HF config.json files listed in ../shared/reference/calibration.md §4). Derived figures
// (parameters, weight bytes, KV bytes per token) are computed here, never typed in.
//
// Layer i uses the attention type attention_pattern[i % pattern size] ("full", "sliding" or
// "linear") and a dense FFN when i < first_dense_layers or when it is not a MoE layer under
// moe_layer_interval (Llama-4 style interleaving), otherwise the MoE block.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/dtype.h"
#include "models/json_reader.h"

namespace moesim {

enum class AttentionKind { kGqa, kMla };  // MHA is GQA with kv_heads == q_heads
enum class LayerAttention { kFull, kSliding, kLinear };

struct AttentionSpec {
  AttentionKind kind = AttentionKind::kGqa;
  int q_heads = 0;
  int kv_heads = 0;          // GQA only
  int head_dim = 0;          // GQA only
  bool qk_norm = false;      // per-head RMSNorm of q and k (Qwen3): two extra kernels
  bool output_gate = false;  // gated attention (Qwen3-Next): q_proj also produces a gate
  // MLA only (DeepSeek-V3 / Kimi K2). q_lora_rank 0 means a direct q projection.
  int q_lora_rank = 0;
  int kv_lora_rank = 0;
  int qk_nope_dim = 0;
  int qk_rope_dim = 0;
  int v_head_dim = 0;
};

// Gated DeltaNet-style linear attention with a fixed per-sequence state (calibration.md §4.2).
struct LinearAttentionSpec {
  int k_heads = 0;
  int v_heads = 0;
  int k_dim = 0;
  int v_dim = 0;
  int conv_kernel = 0;
  // The recurrent state's precision is the serving stack's choice (RuntimeSpec::
  // linear_state_bytes), not the checkpoint's.
};

struct MoeSpec {
  int routed_experts = 0;
  int top_k = 0;
  int expert_inter = 0;
  int shared_experts = 0;
  int shared_inter = 0;  // intermediate size of each shared expert
  int first_dense_layers = 0;
  int dense_inter = 0;         // intermediate size of dense FFN layers
  int moe_layer_interval = 1;  // every n-th layer is MoE (Llama-4 Maverick: 2)
  int n_group = 1;             // group-limited routing (DeepSeek-V3: 8 groups, top 4)
  int topk_group = 1;
};

struct ModelSpec {
  std::string name;
  std::string description;
  int layers = 0;
  int hidden = 0;
  int vocab = 0;
  bool tie_embeddings = false;
  AttentionSpec attention;
  std::vector<LayerAttention> attention_pattern{LayerAttention::kFull};
  int sliding_window_tokens = 0;  // required when the pattern has "sliding"
  LinearAttentionSpec linear;     // required when the pattern has "linear"
  MoeSpec moe;
  int mtp_layers = 0;                 // multi-token-prediction draft layers in the checkpoint
  DType weight_dtype = DType::kBf16;  // attention, dense FFN and shared experts
  DType expert_weight_dtype = DType::kBf16;  // routed experts
  DType kv_dtype = DType::kBf16;
  // How fp8 weights are scaled: per 128x128 block (DeepSeek / Qwen3 FP8 checkpoints, DeepGEMM)
  // or per tensor with per-token activation scales (vLLM --quantization fp8 on the fly). Picks
  // the GEMM kernel class (models/kernel_table.h).
  bool fp8_block_scaled = true;
  int64_t max_context_tokens = 0;  // max_position_embeddings of the HF config
  // Embedding, LM head, router and norms stay bf16 (as vLLM / SGLang keep them).

  LayerAttention AttentionOf(int layer) const {
    return attention_pattern[layer % attention_pattern.size()];
  }
  // A dense model (no routed experts; "intermediate_size" instead of "moe"): only as a
  // speculative draft model, every layer a dense FFN of moe.dense_inter.
  bool IsDense() const { return moe.routed_experts == 0; }
  bool IsMoeLayer(int layer) const;
  int MoeLayerCount() const;
  int CountLayers(LayerAttention kind) const;

  // --- Parameter counts (elements) -------------------------------------------------------
  double AttentionParamsPerLayer() const;        // full/sliding attention projections
  double LinearAttentionParamsPerLayer() const;  // linear-attention projections
  double ExpertParams() const;                   // one routed expert: 3 * hidden * expert_inter
  double SharedExpertParams() const;             // all shared experts of one layer
  double DenseFfnParams() const;                 // one dense FFN layer
  double RouterParams() const;                   // one MoE layer's gate
  double EmbeddingParams() const;                // embedding + (untied) LM head
  double TotalParams() const;
  double ActiveParams() const;  // per token, top_k routed experts

  // --- Bytes -------------------------------------------------------------------------------
  double WeightBytes() const;  // whole model (MTP layers excluded), dtypes as above

  // KV bytes one token adds to one full/sliding attention layer, for one GPU whose attention
  // is sharded `attention_tp` ways (GQA kv heads are sharded but replicated when tp > kv_heads;
  // the MLA latent is replicated on every rank).
  double KvBytesPerTokenPerLayer(int attention_tp) const;
  // Fixed linear-attention state of one sequence in one linear layer, for one GPU: the conv
  // window in bf16 plus the recurrent state at `state_bytes` per element.
  double LinearStateBytesPerLayer(int attention_tp, double state_bytes) const;
  // KV footprint of one sequence holding `tokens` tokens, summed over layers, on one GPU.
  double SequenceKvBytes(int64_t tokens, int attention_tp, double state_bytes = 2) const;
};

// `model` with `n` more decoder layers appended after its last (like it: MoE when it is MoE
// there): what a GPU holds when it also keeps n MTP draft layers (weights and KV cache).
ModelSpec WithAppendedLayers(const ModelSpec& model, int n);

absl::StatusOr<ModelSpec> ParseModelSpec(const nlohmann::json& value, const JsonLocation& where,
                                         const std::string& name);
nlohmann::json ModelSpecToJson(const ModelSpec& model);

}  // namespace moesim
