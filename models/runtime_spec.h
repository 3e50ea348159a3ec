// The serving stack on one GPU server (vLLM-, SGLang- or TRT-LLM-like): how kernels are launched,
// what the host CPU does each step, how memory is budgeted and how batches are formed.
//
// Values come from runtime presets (models/presets/runtimes.json, each with its source) with
// scenario overrides under "runtime".
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

enum class ExecutionMode {
  kEager,      // every kernel launched from Python: the CPU issues one kernel per launch gap
  kCudaGraph,  // one graph replay per step: a launch cost per graph plus a small one per node
};

struct RuntimeSpec {
  std::string name;
  std::string description;
  ExecutionMode mode = ExecutionMode::kEager;

  double eager_launch_gap_us = 0;       // CPU time between two eager kernel launches
  double graph_launch_us = 0;           // CPU cost of one CUDA-graph replay
  double graph_node_us = 0;             // GPU-side cost added to every kernel node in a graph
  double host_step_overhead_us = 0;     // CPU work per step before the first launch
  double host_per_seq_overhead_us = 0;  // CPU work per running sequence per step
  double allreduce_latency_us = 0;      // fixed cost of one all-reduce kernel beyond its transfer
  double p2p_latency_us = 0;            // fixed cost of one pipeline-stage send beyond its transfer

  double gpu_memory_utilization = 0;      // fraction of HBM the engine may use
  double activation_reserve_gb = 0;       // of that, kept for activations / workspaces (1e9 B)
  int kv_block_tokens = 0;                // paged-KV block size in tokens
  int max_num_seqs = 0;                   // running-sequence cap
  int max_num_batched_tokens = 0;         // token budget per step (decode + chunked prefill)
  bool dynamic_activation_quant = false;  // fp8 GEMMs quantise activations in their own kernel
  // Achieved / peak HBM bandwidth of this stack's decode-attention kernel (paged KV reads).
  // Absent: the GPU preset's attention_hbm_efficiency (measured on TRT-LLM kernels) applies.
  std::optional<double> attention_hbm_efficiency;
};

const char* ExecutionModeName(ExecutionMode mode);  // "eager", "cuda_graph"

absl::StatusOr<RuntimeSpec> ParseRuntimeSpec(const nlohmann::json& value, const JsonLocation& where,
                                             const std::string& name);
nlohmann::json RuntimeSpecToJson(const RuntimeSpec& runtime);

}  // namespace moesim
