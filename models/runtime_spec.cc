#include "models/runtime_spec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

const char* ExecutionModeName(ExecutionMode mode) {
  return mode == ExecutionMode::kEager ? "eager" : "cuda_graph";
}

const char* StackFamilyName(StackFamily f) {
  switch (f) {
    case StackFamily::kVllm:
      return "vllm";
    case StackFamily::kSglang:
      return "sglang";
    case StackFamily::kTrtllm:
      return "trtllm";
    case StackFamily::kAtom:
      return "atom";
  }
  return "";
}

const char* SpeculativeOverlapName(SpeculativeOverlap o) {
  switch (o) {
    case SpeculativeOverlap::kNone:
      return "none";
    case SpeculativeOverlap::kMtp:
      return "mtp";
    case SpeculativeOverlap::kMtpAndEagle:
      return "mtp_and_eagle";
    case SpeculativeOverlap::kAll:
      return "all";
  }
  return "";
}

double RuntimeSpec::HostStepSeconds(int64_t running) const {
  const bool eager = mode == ExecutionMode::kEager;
  const double step = eager ? eager_host_step_us : graph_host_step_us;
  const double per_seq = eager ? eager_host_per_seq_us : graph_host_per_seq_us;
  return (step + per_seq * double(running)) * 1e-6;
}

const char* DpGatherName(DpGather g) { return g == DpGather::kSizes ? "sizes" : "max_len"; }

namespace {

const char* MemoryFractionOfName(MemoryFractionOf m) {
  switch (m) {
    case MemoryFractionOf::kTotal:
      return "total";
    case MemoryFractionOf::kWeightsAndKv:
      return "weights_and_kv";
    case MemoryFractionOf::kFreeAfterActivations:
      return "free_after_activations";
  }
  return "";
}

absl::StatusOr<std::optional<int>> OptionalInt(JsonObjectReader& r, const std::string& key,
                                               NumberRule rule) {
  if (!r.Has(key)) {
    r.Skip(key);
    return std::optional<int>();
  }
  MOESIM_ASSIGN_OR_RETURN(int64_t v, r.Integer(key, rule));
  return std::optional<int>(static_cast<int>(v));
}

}  // namespace

absl::StatusOr<RuntimeSpec> ParseRuntimeSpec(const nlohmann::json& value, const JsonLocation& where,
                                             const std::string& name) {
  RuntimeSpec s;
  s.name = name;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(s.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(s.version, r.String("version"));
  MOESIM_ASSIGN_OR_RETURN(std::string family,
                          r.Enum("family", {"vllm", "sglang", "trtllm", "atom"}));
  s.family = family == "sglang"   ? StackFamily::kSglang
             : family == "trtllm" ? StackFamily::kTrtllm
             : family == "atom"   ? StackFamily::kAtom
                                  : StackFamily::kVllm;
  MOESIM_ASSIGN_OR_RETURN(std::string mode, r.Enum("execution_mode", {"eager", "cuda_graph"}));
  s.mode = mode == "eager" ? ExecutionMode::kEager : ExecutionMode::kCudaGraph;

  const NumberRule us = NumberRule::Between(0, 1e6);
  MOESIM_ASSIGN_OR_RETURN(s.host_overlap, r.Bool("host_overlap"));
  MOESIM_ASSIGN_OR_RETURN(
      std::string spec_overlap,
      r.Enum("speculative_host_overlap", {"none", "mtp", "mtp_and_eagle", "all"}));
  s.speculative_host_overlap = spec_overlap == "none"            ? SpeculativeOverlap::kNone
                               : spec_overlap == "mtp"           ? SpeculativeOverlap::kMtp
                               : spec_overlap == "mtp_and_eagle" ? SpeculativeOverlap::kMtpAndEagle
                                                                 : SpeculativeOverlap::kAll;
  MOESIM_ASSIGN_OR_RETURN(s.eager_host_step_us, r.Number("eager_host_step_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.eager_host_per_seq_us, r.Number("eager_host_per_seq_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.graph_host_step_us, r.Number("graph_host_step_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.graph_host_per_seq_us, r.Number("graph_host_per_seq_us", us));

  MOESIM_ASSIGN_OR_RETURN(s.eager_launch_gap_us, r.Number("eager_launch_gap_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.graph_launch_us, r.Number("graph_launch_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.cuda_graph_max_batch,
                          OptionalInt(r, "cuda_graph_max_batch", NumberRule::Between(1, 1e6)));
  MOESIM_ASSIGN_OR_RETURN(std::string uncaptured,
                          r.Enum("uncaptured_launch", {"eager", "piecewise"}));
  s.uncaptured_launch =
      uncaptured == "piecewise" ? UncapturedLaunch::kPiecewise : UncapturedLaunch::kEager;

  MOESIM_ASSIGN_OR_RETURN(s.allreduce_latency_us, r.Number("allreduce_latency_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.p2p_latency_us, r.Number("p2p_latency_us", us));

  MOESIM_ASSIGN_OR_RETURN(s.memory_fraction,
                          r.OptionalNumber("memory_fraction", NumberRule::Fraction()));
  MOESIM_ASSIGN_OR_RETURN(std::string of, r.Enum("memory_fraction_of", {"total", "weights_and_kv",
                                                                        "free_after_activations"}));
  s.memory_fraction_of = of == "weights_and_kv"           ? MemoryFractionOf::kWeightsAndKv
                         : of == "free_after_activations" ? MemoryFractionOf::kFreeAfterActivations
                                                          : MemoryFractionOf::kTotal;
  MOESIM_ASSIGN_OR_RETURN(s.activation_reserve_gb,
                          r.OptionalNumber("activation_reserve_gb", NumberRule::Between(0, 1e5)));
  MOESIM_ASSIGN_OR_RETURN(s.non_torch_reserve_gb,
                          r.Number("non_torch_reserve_gb", NumberRule::Between(0, 1e5)));
  MOESIM_ASSIGN_OR_RETURN(std::string state, r.Enum("linear_state_dtype", {"bf16", "fp32"}));
  s.linear_state_bytes = state == "fp32" ? 4.0 : 2.0;

  MOESIM_ASSIGN_OR_RETURN(int64_t block,
                          r.Integer("kv_block_tokens", NumberRule::Between(1, 4096)));
  s.kv_block_tokens = static_cast<int>(block);
  MOESIM_ASSIGN_OR_RETURN(s.max_num_seqs,
                          OptionalInt(r, "max_num_seqs", NumberRule::Between(1, 1e7)));
  MOESIM_ASSIGN_OR_RETURN(s.speculative_max_num_seqs,
                          OptionalInt(r, "speculative_max_num_seqs", NumberRule::Between(1, 1e7)));
  MOESIM_ASSIGN_OR_RETURN(s.max_num_batched_tokens,
                          OptionalInt(r, "max_num_batched_tokens", NumberRule::Between(1, 1e8)));
  MOESIM_ASSIGN_OR_RETURN(s.decode_reserved_tokens,
                          OptionalInt(r, "decode_reserved_tokens", NumberRule::Between(0, 1e7)));
  MOESIM_ASSIGN_OR_RETURN(std::string batching, r.Enum("batching", {"mixed", "prefill_first"}));
  s.batching = batching == "prefill_first" ? Batching::kPrefillFirst : Batching::kMixed;
  MOESIM_ASSIGN_OR_RETURN(std::string gather, r.Enum("dp_gather", {"max_len", "sizes"}));
  s.dp_gather = gather == "sizes" ? DpGather::kSizes : DpGather::kMaxLen;
  if (r.Has("attention_dp_balance")) {
    if (s.family != StackFamily::kTrtllm) {
      return BadInput(where.Key("attention_dp_balance"),
                      absl::StrCat("TensorRT-LLM's attention_dp_config.enable_balance: only with "
                                   "a trtllm-family runtime (this one is ",
                                   StackFamilyName(s.family), ")"));
    }
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader b, r.Object("attention_dp_balance"));
    RuntimeSpec::AttentionDpBalance balance;
    const NumberRule iters = NumberRule::Between(0, 1e6);
    MOESIM_ASSIGN_OR_RETURN(int64_t timeout,
                            b.IntegerOr("timeout_iters", balance.timeout_iters, iters));
    MOESIM_ASSIGN_OR_RETURN(int64_t wait,
                            b.IntegerOr("batching_wait_iters", balance.batching_wait_iters, iters));
    MOESIM_RETURN_IF_ERROR(b.Finish());
    balance.timeout_iters = static_cast<int>(timeout);
    balance.batching_wait_iters = static_cast<int>(wait);
    s.attention_dp_balance = balance;
  }

  MOESIM_ASSIGN_OR_RETURN(s.dynamic_activation_quant, r.Bool("dynamic_activation_quant"));
  MOESIM_ASSIGN_OR_RETURN(s.fuse_act_quant, r.Bool("fuse_act_quant"));
  MOESIM_ASSIGN_OR_RETURN(s.fuse_allreduce_norm, r.Bool("fuse_allreduce_norm"));
  MOESIM_ASSIGN_OR_RETURN(s.fuse_qk_norm_rope, r.Bool("fuse_qk_norm_rope"));
  MOESIM_ASSIGN_OR_RETURN(int64_t moe_kernels,
                          r.Integer("moe_kernels", NumberRule::Between(1, 64)));
  s.moe_kernels = static_cast<int>(moe_kernels);
  MOESIM_ASSIGN_OR_RETURN(s.gqa_attention_fixed_us,
                          r.OptionalNumber("gqa_attention_fixed_us", NumberRule::Between(0, 1e5)));
  MOESIM_ASSIGN_OR_RETURN(s.gqa_attention_hbm_efficiency,
                          r.OptionalNumber("gqa_attention_hbm_efficiency", NumberRule::Fraction()));
  if (s.gqa_attention_fixed_us.has_value() != s.gqa_attention_hbm_efficiency.has_value()) {
    return BadInput(where,
                    "gqa_attention_fixed_us and gqa_attention_hbm_efficiency go together "
                    "(the stack's decode-attention kernel); give both or neither");
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return s;
}

nlohmann::json RuntimeSpecToJson(const RuntimeSpec& s) {
  nlohmann::json j = {
      {"description", s.description},
      {"version", s.version},
      {"family", StackFamilyName(s.family)},
      {"execution_mode", ExecutionModeName(s.mode)},
      {"host_overlap", s.host_overlap},
      {"speculative_host_overlap", SpeculativeOverlapName(s.speculative_host_overlap)},
      {"eager_host_step_us", s.eager_host_step_us},
      {"eager_host_per_seq_us", s.eager_host_per_seq_us},
      {"graph_host_step_us", s.graph_host_step_us},
      {"graph_host_per_seq_us", s.graph_host_per_seq_us},
      {"eager_launch_gap_us", s.eager_launch_gap_us},
      {"graph_launch_us", s.graph_launch_us},
      {"uncaptured_launch",
       s.uncaptured_launch == UncapturedLaunch::kPiecewise ? "piecewise" : "eager"},
      {"allreduce_latency_us", s.allreduce_latency_us},
      {"p2p_latency_us", s.p2p_latency_us},
      {"memory_fraction_of", MemoryFractionOfName(s.memory_fraction_of)},
      {"non_torch_reserve_gb", s.non_torch_reserve_gb},
      {"linear_state_dtype", s.linear_state_bytes == 4.0 ? "fp32" : "bf16"},
      {"kv_block_tokens", s.kv_block_tokens},
      {"batching", s.batching == Batching::kPrefillFirst ? "prefill_first" : "mixed"},
      {"dp_gather", DpGatherName(s.dp_gather)},
      {"dynamic_activation_quant", s.dynamic_activation_quant},
      {"fuse_act_quant", s.fuse_act_quant},
      {"fuse_allreduce_norm", s.fuse_allreduce_norm},
      {"fuse_qk_norm_rope", s.fuse_qk_norm_rope},
      {"moe_kernels", s.moe_kernels}};
  if (s.memory_fraction) j["memory_fraction"] = *s.memory_fraction;
  if (s.gqa_attention_fixed_us) j["gqa_attention_fixed_us"] = *s.gqa_attention_fixed_us;
  if (s.gqa_attention_hbm_efficiency) {
    j["gqa_attention_hbm_efficiency"] = *s.gqa_attention_hbm_efficiency;
  }
  if (s.cuda_graph_max_batch) j["cuda_graph_max_batch"] = *s.cuda_graph_max_batch;
  if (s.activation_reserve_gb) j["activation_reserve_gb"] = *s.activation_reserve_gb;
  if (s.max_num_seqs) j["max_num_seqs"] = *s.max_num_seqs;
  if (s.speculative_max_num_seqs) j["speculative_max_num_seqs"] = *s.speculative_max_num_seqs;
  if (s.max_num_batched_tokens) j["max_num_batched_tokens"] = *s.max_num_batched_tokens;
  if (s.decode_reserved_tokens) j["decode_reserved_tokens"] = *s.decode_reserved_tokens;
  if (s.attention_dp_balance) {
    j["attention_dp_balance"] = {
        {"timeout_iters", s.attention_dp_balance->timeout_iters},
        {"batching_wait_iters", s.attention_dp_balance->batching_wait_iters}};
  }
  return j;
}

}  // namespace moesim
