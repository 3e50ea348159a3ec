#include "plan/pool_checks.h"

#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace moesim {

namespace {

// Instances tile whole servers, and fit the cluster.
absl::Status CheckTiling(const PoolSpec& pool, const ModelSpec& model, const ClusterSpec& cl) {
  const JsonLocation& dep = pool.where;
  const DeploymentSpec& d = pool.deployment;
  const ParallelPlan& p = d.plan;
  if (cl.gpus_per_server % p.tp != 0 && p.tp % cl.gpus_per_server != 0) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("a divisor or a multiple of hardware.gpus_per_server (",
                                 cl.gpus_per_server, "), so that instances tile whole servers"));
  }
  if (d.attention_ffn.enabled()) {
    const int n = d.gpus_per_instance();
    if (cl.gpus_per_server % n != 0 && n % cl.gpus_per_server != 0) {
      return BadValue(dep.Key("attention_ffn").Key("attention_gpus"),
                      d.attention_ffn.attention_gpus,
                      absl::StrCat("a count that with the ", d.attention_ffn.expert_gpus,
                                   " expert GPUs makes an instance (", n,
                                   " GPUs) that divides or is a multiple of "
                                   "hardware.gpus_per_server (",
                                   cl.gpus_per_server, "), so that instances tile whole servers"));
    }
  } else if (p.dp_attention && cl.gpus_per_server % p.ep != 0 && p.ep % cl.gpus_per_server != 0) {
    return BadValue(dep.Key("expert_parallel"), p.ep,
                    absl::StrCat("a divisor or a multiple of hardware.gpus_per_server (",
                                 cl.gpus_per_server, "), so that EP groups tile whole servers"));
  }
  const int cluster_gpus = cl.total_gpus();
  if (p.tp > cluster_gpus) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("at most the cluster's ", cluster_gpus, " GPUs"));
  }
  if (d.attention_ffn.enabled() && d.gpus_per_instance() > cluster_gpus) {
    return BadValue(dep.Key("attention_ffn").Key("attention_gpus"), d.attention_ffn.attention_gpus,
                    absl::StrCat("a count that with the ", d.attention_ffn.expert_gpus,
                                 " expert GPUs fits the cluster's ", cluster_gpus, " GPUs"));
  }
  if (p.dp_attention && d.gpus_per_instance() > cluster_gpus) {
    return BadValue(dep.Key("expert_parallel"), p.ep,
                    absl::StrCat("at most the cluster's ", cluster_gpus, " GPUs"));
  }
  if (p.tp * p.pp > cluster_gpus) {
    return BadValue(dep.Key("pipeline_parallel"), p.pp,
                    absl::StrCat("at most ", cluster_gpus / p.tp, " stages of ", p.tp,
                                 " GPUs on the cluster's ", cluster_gpus, " GPUs"));
  }
  if (p.pp > model.layers) {
    return BadValue(dep.Key("pipeline_parallel"), p.pp,
                    absl::StrCat("at most the model's ", model.layers, " layers"));
  }
  if (d.total_gpus() > cluster_gpus) {
    return BadValue(dep.Key("instances"), d.instances,
                    absl::StrCat("at most ", cluster_gpus / d.gpus_per_instance(), " instances of ",
                                 d.gpus_per_instance(), " GPUs on ", cluster_gpus, " GPUs"));
  }
  return absl::OkStatus();
}

// Heads, linear-attention heads, expert slots and expert width divide over the plan.
absl::Status CheckDivisibility(const PoolSpec& pool, const ModelSpec& m) {
  const JsonLocation& dep = pool.where;
  const ParallelPlan& p = pool.deployment.plan;
  if (m.attention.q_heads % p.tp != 0) {
    return BadValue(
        dep.Key("tensor_parallel"), p.tp,
        absl::StrCat("a divisor of the model's ", m.attention.q_heads, " attention heads"));
  }
  if (m.CountLayers(LayerAttention::kLinear) > 0 && m.linear.v_heads % p.tp != 0) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("a divisor of the model's ", m.linear.v_heads,
                                 " linear-attention value heads"));
  }
  if (m.IsDense() && (p.ep > 1 || p.dp_attention || p.redundant_experts > 0)) {
    return BadValue(
        dep.Key(p.ep > 1         ? "expert_parallel"
                : p.dp_attention ? "attention"
                                 : "expert_placement"),
        p.ep > 1         ? nlohmann::json(p.ep)
        : p.dp_attention ? nlohmann::json("data_parallel")
                         : nlohmann::json(p.redundant_experts),
        absl::StrCat("no expert parallelism: ", m.name, " is a dense model (no routed experts)"));
  }
  const int slots = m.moe.routed_experts + p.redundant_experts;
  if (pool.deployment.attention_ffn.enabled() && m.moe.routed_experts == 0) {
    return BadValue(dep.Key("attention_ffn"), "an object",
                    "no attention_ffn section: the model has no routed experts to disaggregate");
  }
  if (p.ep > 1 && slots % p.ep != 0) {
    return BadValue(
        dep.Key(pool.deployment.attention_ffn.enabled() ? "attention_ffn.expert_gpus"
                                                        : "expert_parallel"),
        p.ep,
        absl::StrCat("a divisor of the model's ", m.moe.routed_experts, " routed experts",
                     p.redundant_experts > 0 ? absl::StrCat(" plus ", p.redundant_experts,
                                                            " redundant slots (", slots, " slots)")
                                             : std::string()));
  }
  if (m.moe.expert_inter % p.MoeTp() != 0) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("a multiple of expert_parallel whose quotient (", p.MoeTp(),
                                 ") divides the expert intermediate size ", m.moe.expert_inter));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckPoolShape(const PoolSpec& pool, const ModelSpec& model,
                            const ClusterSpec& cluster) {
  if (pool.deployment.moe_dispatch == DeploymentSpec::MoeDispatch::kNormal &&
      pool.runtime.mode == ExecutionMode::kCudaGraph) {
    // SGLang PR #5014 / issue #6218, rtp-llm PR #1308: DeepEP's normal kernels sync with the
    // host for the receive counts and cannot be captured into a CUDA graph.
    return BadValue(
        pool.where.Key("moe_dispatch"), "normal",
        "\"low_latency\" with runtime.execution_mode \"cuda_graph\" (DeepEP's normal "
        "kernels wait on the host for receive counts and cannot be graph-captured, "
        "as SGLang and rtp-llm enforce); set \"execution_mode\": \"eager\" to use them");
  }
  if (pool.runtime.attention_dp_balance && !pool.deployment.plan.dp_attention) {
    // TensorRT-LLM balances context phases across attention-DP ranks only.
    return BadValue(pool.where.Key("attention"), "tensor_parallel",
                    "\"data_parallel\": runtime.attention_dp_balance (TensorRT-LLM's "
                    "attention_dp_config.enable_balance) aligns the context phases of DP-attention "
                    "ranks; drop it for a tensor-parallel pool");
  }
  if (absl::Status s = CheckTiling(pool, model, cluster); !s.ok()) return s;
  return CheckDivisibility(pool, model);
}

}  // namespace moesim
