#include "models/runtime_spec.h"

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

const char* ExecutionModeName(ExecutionMode mode) {
  return mode == ExecutionMode::kEager ? "eager" : "cuda_graph";
}

absl::StatusOr<RuntimeSpec> ParseRuntimeSpec(const nlohmann::json& value, const JsonLocation& where,
                                             const std::string& name) {
  RuntimeSpec s;
  s.name = name;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(s.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(std::string mode, r.Enum("execution_mode", {"eager", "cuda_graph"}));
  s.mode = mode == "eager" ? ExecutionMode::kEager : ExecutionMode::kCudaGraph;
  const NumberRule us = NumberRule::Between(0, 1e6);
  MOESIM_ASSIGN_OR_RETURN(s.eager_launch_gap_us, r.Number("eager_launch_gap_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.graph_launch_us, r.Number("graph_launch_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.graph_node_us, r.Number("graph_node_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.host_step_overhead_us, r.Number("host_step_overhead_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.host_per_seq_overhead_us, r.Number("host_per_seq_overhead_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.allreduce_latency_us, r.Number("allreduce_latency_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.p2p_latency_us, r.Number("p2p_latency_us", us));
  MOESIM_ASSIGN_OR_RETURN(s.gpu_memory_utilization,
                          r.Number("gpu_memory_utilization", NumberRule::Fraction()));
  MOESIM_ASSIGN_OR_RETURN(s.activation_reserve_gb,
                          r.Number("activation_reserve_gb", NumberRule::Between(0, 1e5)));
  MOESIM_ASSIGN_OR_RETURN(int64_t block,
                          r.Integer("kv_block_tokens", NumberRule::Between(1, 4096)));
  s.kv_block_tokens = static_cast<int>(block);
  MOESIM_ASSIGN_OR_RETURN(int64_t seqs, r.Integer("max_num_seqs", NumberRule::Between(1, 1e7)));
  s.max_num_seqs = static_cast<int>(seqs);
  MOESIM_ASSIGN_OR_RETURN(int64_t tokens,
                          r.Integer("max_num_batched_tokens", NumberRule::Between(1, 1e8)));
  s.max_num_batched_tokens = static_cast<int>(tokens);
  MOESIM_ASSIGN_OR_RETURN(s.dynamic_activation_quant, r.Bool("dynamic_activation_quant"));
  MOESIM_ASSIGN_OR_RETURN(s.attention_hbm_efficiency,
                          r.OptionalNumber("attention_hbm_efficiency", NumberRule::Fraction()));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return s;
}

nlohmann::json RuntimeSpecToJson(const RuntimeSpec& s) {
  nlohmann::json j = {{"description", s.description},
                      {"execution_mode", ExecutionModeName(s.mode)},
                      {"eager_launch_gap_us", s.eager_launch_gap_us},
                      {"graph_launch_us", s.graph_launch_us},
                      {"graph_node_us", s.graph_node_us},
                      {"host_step_overhead_us", s.host_step_overhead_us},
                      {"host_per_seq_overhead_us", s.host_per_seq_overhead_us},
                      {"allreduce_latency_us", s.allreduce_latency_us},
                      {"p2p_latency_us", s.p2p_latency_us},
                      {"gpu_memory_utilization", s.gpu_memory_utilization},
                      {"activation_reserve_gb", s.activation_reserve_gb},
                      {"kv_block_tokens", s.kv_block_tokens},
                      {"max_num_seqs", s.max_num_seqs},
                      {"max_num_batched_tokens", s.max_num_batched_tokens},
                      {"dynamic_activation_quant", s.dynamic_activation_quant}};
  if (s.attention_hbm_efficiency) j["attention_hbm_efficiency"] = *s.attention_hbm_efficiency;
  return j;
}

}  // namespace moesim
