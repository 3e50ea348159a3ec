#include "models/decode_step.h"

#include <algorithm>
#include <optional>

#include "models/moe_traffic.h"
#include "models/routing.h"

namespace moesim {

namespace {

constexpr double kAct = 2.0;           // bf16 activations
constexpr double kFp32 = 4.0;          // logits, router scores
constexpr double kIndex = 4.0;         // int32 expert ids / positions
constexpr double kQuantBlock = 128.0;  // fp8 activation-scale block (1×128, DeepGEMM style)

// Bytes per element of a GEMM input activation: fp8 with one fp32 scale per 128 values when
// the weights are fp8 (W8A8), bf16 otherwise.
double GemmInputBytes(DType weights) {
  return weights == DType::kFp8 ? 1.0 + kFp32 / kQuantBlock : kAct;
}

GemmFormat FormatOf(DType weights, bool fp8_block_scaled) {
  switch (weights) {
    case DType::kFp8:
      return fp8_block_scaled ? GemmFormat::kFp8Block : GemmFormat::kFp8Tensor;
    case DType::kFp4:
      return GemmFormat::kFp4;
    case DType::kBf16:
      return GemmFormat::kBf16;
  }
  return GemmFormat::kBf16;
}

class Builder {
 public:
  Builder(const ModelSpec& m, const RuntimeSpec& r, const ParallelPlan& p, const StepBatch& b,
          int stage, const std::vector<MoeLayerLoad>* moe_loads)
      : m_(m), r_(r), p_(p), b_(b), t_(double(b.tokens())), stage_(stage), moe_loads_(moe_loads) {}

  StepProgram Build() {
    StepProgram prog;
    const LayerRange range = StageLayers(m_.layers, p_.pp, stage_);
    if (stage_ == 0) {
      ops_ = &prog.blocks.emplace_back();
      Elementwise("embedding", t_ * m_.hidden * kAct * 2);
      prog.order.push_back(0);
    }

    // One block per distinct (attention kind, ffn kind) pair, in layer order.
    std::vector<std::pair<int, int>> keys;  // (attention kind, is_moe) -> block index
    std::vector<int> key_block;
    int moe_ordinal = 0;
    for (int layer = 0; layer < range.first; ++layer) moe_ordinal += m_.IsMoeLayer(layer) ? 1 : 0;
    for (int layer = range.first; layer < range.end; ++layer) {
      const int attn = static_cast<int>(m_.AttentionOf(layer));
      const int moe = m_.IsMoeLayer(layer) ? 1 : 0;
      // With sampled routing every MoE layer has its own load, hence its own block.
      const bool own_block = moe == 1 && moe_loads_ != nullptr;
      moe_load_ = own_block ? &(*moe_loads_)[moe_ordinal] : nullptr;
      moe_ordinal += moe;
      int block = -1;
      for (size_t i = 0; i < keys.size() && !own_block; ++i) {
        if (keys[i] == std::make_pair(attn, moe)) block = key_block[i];
      }
      if (block < 0) {
        block = static_cast<int>(prog.blocks.size());
        ops_ = &prog.blocks.emplace_back();
        BuildLayer(m_.AttentionOf(layer), moe == 1);
        if (!own_block) {
          keys.emplace_back(attn, moe);
          key_block.push_back(block);
        }
      }
      prog.order.push_back(block);
    }

    if (stage_ == p_.pp - 1) {
      prog.order.push_back(static_cast<int>(prog.blocks.size()));
      ops_ = &prog.blocks.emplace_back();
      BuildHead();
    }
    return prog;
  }

 private:
  void Push(Op op) { ops_->push_back(op); }

  void Elementwise(const char* name, double bytes) {
    Op op;
    op.name = name;
    op.cls = OpClass::kElementwise;
    op.bytes = bytes;
    Push(op);
  }

  // A norm that the preceding all-reduce performs itself when the stack fuses AllReduce +
  // residual + RMSNorm (only where an all-reduce precedes it: TP > 1, no DP attention).
  void Norm(const char* name, double bytes, bool after_allreduce) {
    if (after_allreduce && r_.fuse_allreduce_norm && p_.tp > 1 && !p_.dp_attention) return;
    Elementwise(name, bytes);
  }

  // Dense linear layer [rows × k] x [k × n] with weights of dtype `w`, as the stack runs it:
  // its per-token activation quantisation (fp8 / fp4 weights) is one more kernel unless fused
  // into the preceding norm or activation. Its time is the GEMM class's (which includes that
  // quantisation, kernel_table.h).
  void Gemm(const char* name, double rows, double n, double k, DType w) {
    Op op;
    op.name = name;
    op.cls = OpClass::kGemm;
    op.math_dtype = w;
    op.format = FormatOf(w, m_.fp8_block_scaled);
    op.flops = 2.0 * rows * n * k;
    op.bytes = n * k * WeightBytesPerElement(w) + rows * k * GemmInputBytes(w) + rows * n * kAct;
    op.gemm_rows = rows;
    op.kernels = 1 + (SeparateQuant(w) ? 1 : 0);
    Push(op);
  }

  bool SeparateQuant(DType w) const {
    return w != DType::kBf16 && r_.dynamic_activation_quant && !r_.fuse_act_quant;
  }

  void AllReduce(const char* name, double message_bytes, int group = 0) {
    if ((group > 0 ? group : p_.tp) <= 1) return;
    Op op;
    op.name = name;
    op.cls = OpClass::kAllReduce;
    op.message_bytes = message_bytes;
    Push(op);
  }

  void Attention(const char* name, AttentionFamily family, double flops, double kv_bytes,
                 double io_bytes) {
    Op op;
    op.name = name;
    op.cls = OpClass::kAttention;
    op.attention = family;
    op.math_dtype = DType::kBf16;
    op.flops = flops;
    op.bytes = kv_bytes + io_bytes;
    Push(op);
  }

  void BuildLayer(LayerAttention kind, bool moe) {
    const double h = m_.hidden;
    Norm("input_norm", t_ * h * kAct * 3, /*after_allreduce=*/true);
    if (kind == LayerAttention::kLinear) {
      LinearAttentionBlock();
    } else if (m_.attention.kind == AttentionKind::kMla) {
      MlaBlock(kind);
    } else {
      GqaBlock(kind);
    }
    AllReduce("attn_allreduce", t_ * h * kAct);
    Norm("post_attn_norm", t_ * h * kAct * 3, /*after_allreduce=*/true);
    if (moe) {
      MoeBlock();
    } else {
      DenseFfn(m_.moe.dense_inter);
    }
  }

  void GqaBlock(LayerAttention kind) {
    const AttentionSpec& a = m_.attention;
    const double h = m_.hidden;
    const double q = double(a.q_heads) / p_.tp * a.head_dim;
    const double kv = std::max(1.0, double(a.kv_heads) / p_.tp) * a.head_dim;
    const double gate = a.output_gate ? 2.0 : 1.0;
    Gemm("qkv_proj", t_, q * gate + 2 * kv, h, m_.weight_dtype);
    if (a.qk_norm && r_.fuse_qk_norm_rope) {
      Elementwise("qk_norm_rope", t_ * (q + kv) * kAct * 2);
    } else {
      if (a.qk_norm) {
        Elementwise("q_norm", t_ * q * kAct * 2);
        Elementwise("k_norm", t_ * kv * kAct * 2);
      }
      Elementwise("rope", t_ * (q + kv) * kAct * 2);
    }
    const double kvb = m_.KvBytesPerTokenPerLayer(p_.tp);
    Elementwise("kv_cache_write", t_ * (2 * kv * kAct + kvb));
    const bool sliding = kind == LayerAttention::kSliding;
    const double pairs = sliding ? b_.sliding_pairs : b_.full_pairs;
    const double kv_tokens = sliding ? b_.sliding_kv_tokens : b_.full_kv_tokens;
    Attention("attention", AttentionFamily::kGqa,
              4.0 * (double(a.q_heads) / p_.tp) * a.head_dim * pairs, kv_tokens * kvb,
              t_ * q * kAct * 2);
    if (a.output_gate) Elementwise("output_gate", t_ * q * kAct * 3);
    Gemm("o_proj", t_, h, q, m_.weight_dtype);
  }

  void MlaBlock(LayerAttention kind) {
    const AttentionSpec& a = m_.attention;
    const double h = m_.hidden;
    const double heads = double(a.q_heads) / p_.tp;
    const double qk = a.qk_nope_dim + a.qk_rope_dim;
    if (a.q_lora_rank > 0) {
      // q_a and kv_a share one GEMM (SGLang fused_qkv_a_proj_with_mqa, vLLM fused_qkv_a_proj,
      // TRT-LLM fused_a), replicated on every rank.
      Gemm("fused_qkv_a_proj", t_, a.q_lora_rank + a.kv_lora_rank + a.qk_rope_dim, h,
           m_.weight_dtype);
      Elementwise("q_a_norm", t_ * a.q_lora_rank * kAct * 2);
      Gemm("q_b_proj", t_, heads * qk, a.q_lora_rank, m_.weight_dtype);
    } else {
      Gemm("q_proj", t_, heads * qk, h, m_.weight_dtype);
      Gemm("kv_a_proj", t_, a.kv_lora_rank + a.qk_rope_dim, h, m_.weight_dtype);
    }
    Elementwise("kv_a_norm", t_ * a.kv_lora_rank * kAct * 2);
    Elementwise("rope", t_ * (heads + 1) * a.qk_rope_dim * kAct * 2);
    const double kvb = m_.KvBytesPerTokenPerLayer(p_.tp);
    Elementwise("kv_cache_write", t_ * ((a.kv_lora_rank + a.qk_rope_dim) * kAct + kvb));
    // Absorbed MLA: q_nope is projected into the latent space, attention runs on the latent
    // cache (scores over kv_lora + rope, values over kv_lora), then the output is projected
    // back per head. The kv_b weights are read by the two absorb GEMMs.
    Gemm("q_absorb", t_, heads * a.kv_lora_rank, a.qk_nope_dim, DType::kBf16);
    const bool sliding = kind == LayerAttention::kSliding;
    const double pairs = sliding ? b_.sliding_pairs : b_.full_pairs;
    const double kv_tokens = sliding ? b_.sliding_kv_tokens : b_.full_kv_tokens;
    Attention("attention", AttentionFamily::kMla,
              2.0 * heads * (2.0 * a.kv_lora_rank + a.qk_rope_dim) * pairs, kv_tokens * kvb,
              t_ * heads * (a.kv_lora_rank * 2 + a.qk_rope_dim) * kAct);
    Gemm("v_absorb", t_, heads * a.v_head_dim, a.kv_lora_rank, DType::kBf16);
    Gemm("o_proj", t_, h, heads * a.v_head_dim, m_.weight_dtype);
  }

  void LinearAttentionBlock() {
    const LinearAttentionSpec& l = m_.linear;
    const double h = m_.hidden;
    const double qk = 2.0 * l.k_heads * l.k_dim / p_.tp;
    const double v = double(l.v_heads) * l.v_dim / p_.tp;
    const double seqs = double(b_.seqs());
    const double state = m_.LinearStateBytesPerLayer(p_.tp, r_.linear_state_bytes);
    Gemm("in_proj", t_, qk + 2 * v + 2.0 * l.v_heads / p_.tp, h, m_.weight_dtype);
    // Causal conv over the last conv_kernel-1 inputs: the bf16 conv state is read and written.
    const double conv_state = (qk + v) * (l.conv_kernel - 1) * kAct;
    Elementwise("conv1d", t_ * (qk + v) * kAct * 2 + 2.0 * seqs * conv_state);
    // Recurrent state update and readout: ~4 FLOPs per state element per token, the state
    // read and written once per sequence.
    Attention("linear_attention", AttentionFamily::kLinear,
              4.0 * t_ * (double(l.v_heads) / p_.tp) * l.k_dim * l.v_dim, 2.0 * seqs * state,
              t_ * (qk + 2 * v) * kAct);
    Elementwise("gated_norm", t_ * v * kAct * 3);
    Gemm("out_proj", t_, h, v, m_.weight_dtype);
  }

  // A SwiGLU MLP split `tp` ways (dense FFN layers and shared experts): `names` are the
  // kernels' names in order: gate_up, silu_mul, down.
  void SwiGluMlp(double inter_per_rank, const char* const (&names)[3]) {
    const double h = m_.hidden;
    const double i = inter_per_rank;
    Gemm(names[0], t_, 2 * i, h, m_.weight_dtype);
    Elementwise(names[1], t_ * i * kAct * 3);
    Gemm(names[2], t_, h, i, m_.weight_dtype);
  }

  void DenseFfn(double inter) {
    static constexpr const char* kNames[3] = {"ffn_gate_up", "ffn_silu_mul", "ffn_down"};
    SwiGluMlp(inter / p_.DenseTp(), kNames);
    AllReduce("ffn_allreduce", t_ * m_.hidden * kAct, p_.DenseTp());
  }

  void MoeBlock() {
    const MoeSpec& e = m_.moe;
    const double h = m_.hidden;
    const double experts = e.routed_experts;
    // Router: replicated on every rank, bf16; then the top-k selection.
    Gemm("router", t_, experts, h, DType::kBf16);
    Elementwise("topk_softmax", t_ * experts * kFp32 + t_ * e.top_k * (kFp32 + kIndex));
    if (p_.dp_attention) {
      Op dispatch;
      dispatch.name = "moe_dispatch_all_to_all";
      dispatch.cls = OpClass::kAllToAll;
      dispatch.message_bytes = DispatchBytesPerRank(m_, t_);
      Push(dispatch);
    }
    ExpertSegment();
    if (p_.dp_attention) {
      Op combine;
      combine.name = "moe_combine_all_to_all";
      combine.cls = OpClass::kAllToAll;
      combine.message_bytes = CombineBytesPerRank(m_, t_);
      Push(combine);
    } else {
      AllReduce("moe_allreduce", t_ * h * kAct);
    }
  }

 public:
  // The ops between the dispatch and the combine (DP attention) or the router and the
  // all-reduce: routed experts sized by moe_load_ (or the expected load), then shared experts.
  // `routed` / `shared`: which parts (attention/FFN disaggregation runs them apart).
  std::vector<Op> ExpertSegmentOps(const MoeLayerLoad* load, bool routed = true,
                                   bool shared = true) {
    std::vector<Op> ops;
    ops_ = &ops;
    moe_load_ = load;
    ExpertSegment(routed, shared);
    return ops;
  }

 private:
  void ExpertSegment(bool routed = true, bool shared = true) {
    const MoeSpec& e = m_.moe;
    // Sampled: the busiest GPU's load; otherwise uniform routing's expected busiest GPU (the
    // same for every layer of the step: computed once).
    // Under DP attention every rank of the EP group is taken to run this batch.
    if (moe_load_ == nullptr && !expected_load_) {
      const double group_tokens = p_.dp_attention ? t_ * p_.ep : t_;
      expected_load_ = ExpectedBusiestGpuLoad(e, p_.redundant_experts, p_.ep, group_tokens);
    }
    const MoeLayerLoad load = moe_load_ != nullptr ? *moe_load_ : *expected_load_;
    const double assignments = load.assignments;
    const double active = load.active_experts;
    const ExpertBlockWork w = ExpertBlock(m_, t_, assignments, active, 1.0 / double(p_.MoeTp()));
    if (routed) PushExpertBlock(w, assignments, active);
    if (shared && e.shared_experts > 0) {
      static constexpr const char* kNames[3] = {"shared_gate_up", "shared_silu_mul", "shared_down"};
      SwiGluMlp(double(e.shared_inter) * e.shared_experts / p_.DenseTp(), kNames);
    }
  }

  void PushExpertBlock(const ExpertBlockWork& w, double assignments, double active) {
    const double experts = m_.moe.routed_experts;
    const double ep = p_.ep;
    Op block;
    block.name = "fused_moe";
    block.cls = OpClass::kMoe;
    block.math_dtype = m_.expert_weight_dtype;
    block.format = FormatOf(m_.expert_weight_dtype, m_.fp8_block_scaled);
    block.flops = w.flops;
    block.bytes = w.weight_bytes + w.activation_bytes;
    block.gemm_rows = active > 0 ? assignments / active : 0;
    block.local_experts = (experts + p_.redundant_experts) / ep;
    // Quantised experts add the activation quantisation before each grouped GEMM unless fused.
    block.kernels = r_.moe_kernels + (SeparateQuant(m_.expert_weight_dtype) ? 2 : 0);
    Push(block);
  }

  void BuildHead() {
    // Logits for every sampled sequence and every verified draft position.
    const double s = double(b_.sampled_seqs + b_.speculative_tokens);
    const double v = double(m_.vocab) / p_.tp;
    Elementwise("final_norm", s * m_.hidden * kAct * 2);
    Gemm("lm_head", s, v, m_.hidden, DType::kBf16);
    // All-gather of the vocab-parallel logits: each rank moves (tp-1)/tp of the full s x vocab
    // bf16 logits, which is what the ring all-reduce pattern moves for half that message.
    AllReduce("logits_gather", s * m_.vocab * kAct / 2);

    // Sampling: temperature / softmax / top-p / argmax passes over fp32 logits.
    Elementwise("sampler_softmax", s * m_.vocab * kFp32 * 2);
    Elementwise("sampler_top_p", s * m_.vocab * kFp32 * 2);
    Elementwise("sampler_pick", s * m_.vocab * kFp32);
  }

  const ModelSpec& m_;
  const RuntimeSpec& r_;
  const ParallelPlan& p_;
  const StepBatch& b_;
  const double t_;
  const int stage_;
  const std::vector<MoeLayerLoad>* moe_loads_;
  const MoeLayerLoad* moe_load_ = nullptr;     // the MoE layer being built, when sampled
  std::optional<MoeLayerLoad> expected_load_;  // the expected busiest GPU's, once needed
  std::vector<Op>* ops_ = nullptr;
};

}  // namespace

int64_t StepProgram::KernelCount() const {
  int64_t n = 0;
  for (int b : order)
    for (const Op& op : blocks[b]) n += op.kernels;
  return n;
}

double StepProgram::TotalFlops() const {
  double x = 0;
  for (int b : order)
    for (const Op& op : blocks[b]) x += op.flops;
  return x;
}

double StepProgram::TotalBytes() const {
  double x = 0;
  for (int b : order)
    for (const Op& op : blocks[b]) x += op.bytes;
  return x;
}

double StepProgram::TotalMessageBytes() const {
  double x = 0;
  for (int b : order)
    for (const Op& op : blocks[b]) x += op.message_bytes;
  return x;
}

MoeLayerLoad ExpectedBusiestGpuLoad(const MoeSpec& moe, double redundant, int ep, double tokens) {
  MoeLayerLoad load;
  if (ep <= 1) {
    load.assignments = tokens * moe.top_k;
    load.active_experts = ExpectedDistinctExperts(moe.routed_experts, moe.top_k, tokens);
    return load;
  }
  load.assignments = ExpectedBusiestGpuPairs(moe, ep, tokens);
  load.active_experts =
      ExpectedDistinctSlots((moe.routed_experts + redundant) / ep, load.assignments);
  return load;
}

LayerRange StageLayers(int layers, int stages, int stage) {
  const int base = layers / stages;
  const int extra = layers % stages;
  const int first = stage * base + std::min(stage, extra);
  return {first, first + base + (stage < extra ? 1 : 0)};
}

StepProgram BuildStepProgram(const ModelSpec& model, const RuntimeSpec& runtime,
                             const ParallelPlan& plan, const StepBatch& batch, int stage,
                             const std::vector<MoeLayerLoad>* moe_loads) {
  return Builder(model, runtime, plan, batch, stage, moe_loads).Build();
}

std::vector<Op> MoeExpertOps(const ModelSpec& model, const RuntimeSpec& runtime,
                             const ParallelPlan& plan, double tokens, const MoeLayerLoad* load) {
  StepBatch batch;
  batch.decode_seqs = static_cast<int64_t>(tokens);
  return Builder(model, runtime, plan, batch, 0, nullptr).ExpertSegmentOps(load);
}

std::vector<Op> RoutedExpertOps(const ModelSpec& model, const RuntimeSpec& runtime,
                                const ParallelPlan& plan, double tokens, const MoeLayerLoad& load) {
  StepBatch batch;
  batch.decode_seqs = static_cast<int64_t>(tokens);
  return Builder(model, runtime, plan, batch, 0, nullptr).ExpertSegmentOps(&load, true, false);
}

std::vector<Op> SharedExpertOps(const ModelSpec& model, const RuntimeSpec& runtime,
                                const ParallelPlan& plan, double tokens) {
  StepBatch batch;
  batch.decode_seqs = static_cast<int64_t>(tokens);
  return Builder(model, runtime, plan, batch, 0, nullptr).ExpertSegmentOps(nullptr, false, true);
}

ExpertBlockWork ExpertBlock(const ModelSpec& model, double tokens, double assignments,
                            double active_experts, double inter_shard) {
  const double h = model.hidden;
  const double inter = model.moe.expert_inter * inter_shard;
  const DType w = model.expert_weight_dtype;
  const double in_b = GemmInputBytes(w);
  ExpertBlockWork work;
  work.flops = 2.0 * assignments * h * 2 * inter + 2.0 * assignments * inter * h;
  work.weight_bytes = active_experts * 3.0 * h * inter * WeightBytesPerElement(w);
  work.activation_bytes = tokens * h * kAct                 // input hidden states
                          + assignments * h * in_b          // scattered (quantised) input
                          + assignments * 2 * inter * kAct  // GEMM1 output
                          + assignments * inter * in_b      // SwiGLU + quant output
                          + assignments * h * kAct          // GEMM2 output
                          + tokens * h * kAct;              // combined output
  return work;
}

}  // namespace moesim
