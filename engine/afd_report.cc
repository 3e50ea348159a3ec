#include "engine/afd_report.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "engine/afd_hop_plan.h"

namespace moesim {

namespace {

// A side's per-GPU time as shares of the steps' time.
nlohmann::json SideShares(const TimeBreakdown& b, double step_s) {
  const double d = step_s > 0 ? step_s : 1.0;
  return {{"compute", b.compute_s / d},
          {"hbm", b.memory_s / d},
          {"launch_and_host", (b.launch_s + b.host_s) / d},
          {"waiting_on_other_side", b.comm_s / d},
          {"idle", std::max(0.0, d - b.Total()) / d},
          {"utilisation", (b.compute_s + b.memory_s) / d}};
}

}  // namespace

nlohmann::json AfdSection(const PoolContext& pool, const InstanceTotals& all) {
  const DeploymentSpec::AttentionFfn& a = pool.deployment().attention_ffn;
  const AfdStepStats& x = all.afd;
  const double steps = std::max<double>(1.0, double(all.steps));
  const double hops_per_dir = std::max(1.0, x.hops / 2);
  const double tokens = std::max<double>(1.0, double(all.tokens));
  const double step_s = all.step_time_s;
  // Per step, per GPU: each side's busy time, and the hops' time in flight (in series).
  const double attention_busy =
      (x.attention.compute_s + x.attention.memory_s + x.attention.launch_s + x.attention.host_s) /
      steps;
  const double expert_busy = (x.experts.compute_s + x.experts.memory_s) / steps;
  const double hop_s = x.dispatch_s + x.combine_s;
  const double hop_per_step = hop_s / steps;
  // Dispatches and combines load opposite link directions: the fabric is busy for the longer.
  const double fabric_busy = std::max(x.dispatch_s, x.combine_s) / steps;
  std::pair<const char*, double> limit = {"fabric", fabric_busy};
  if (attention_busy >= limit.second) {
    limit = {x.attention.memory_s >= x.attention.compute_s ? "attention_hbm" : "attention_compute",
             attention_busy};
  }
  if (expert_busy >= limit.second) {
    limit = {x.experts.memory_s >= x.experts.compute_s ? "expert_hbm" : "expert_compute",
             expert_busy};
  }
  const double step_ms = all.steps > 0 ? step_s / steps * 1e3 : 0.0;
  const MemoryPlan& em = pool.deployed.expert_memory;
  const double gpus_per_token =
      ExpectedGpusPerToken(pool.model.moe.routed_experts, pool.model.moe.top_k, a.expert_gpus);
  return {
      {"attention_gpus", a.attention_gpus},
      {"expert_gpus", a.expert_gpus},
      {"micro_batches", a.micro_batches},
      {"shared_experts", a.shared_experts_on_expert_side ? "experts" : "attention"},
      {"dispatch_dtype", DTypeName(a.dispatch_dtype)},
      {"combine_dtype", DTypeName(a.combine_dtype)},
      {"expert_gpus_per_token", gpus_per_token},
      {"hops_per_step", x.hops / steps},
      {"bytes_per_hop",
       {{"dispatch", x.dispatch_bytes / hops_per_dir},
        {"combine", x.combine_bytes / hops_per_dir}}},
      {"bytes_per_step",
       {{"dispatch", x.dispatch_bytes / steps}, {"combine", x.combine_bytes / steps}}},
      {"bytes_per_token",
       {{"dispatch", x.dispatch_bytes / tokens}, {"combine", x.combine_bytes / tokens}}},
      {"mean_hop_ms_idle_fabric", x.hops > 0 ? hop_s / x.hops * 1e3 : 0.0},
      {"mean_dispatch_ms_idle_fabric", x.hops > 0 ? x.dispatch_s / (x.hops / 2) * 1e3 : 0.0},
      {"mean_combine_ms_idle_fabric", x.hops > 0 ? x.combine_s / (x.hops / 2) * 1e3 : 0.0},
      {"hop_ms_per_step_in_series", hop_per_step * 1e3},
      {"mean_step_ms", step_ms},
      {"hop_share_of_step_in_series", step_s > 0 ? hop_s / step_s : 0.0},
      // The attention side waits for the combine of a micro-batch (hops and the experts'
      // work); hop time beyond that wait was hidden behind compute (a lower bound).
      {"attention_wait_share", step_s > 0 ? x.attention.comm_s / step_s : 0.0},
      {"hop_share_hidden_at_least",
       hop_s > 0 ? std::max(0.0, hop_s - x.attention.comm_s) / hop_s : 0.0},
      {"attention_side", SideShares(x.attention, step_s)},
      {"expert_side", SideShares(x.experts, step_s)},
      {"limit",
       {{"side", limit.first},
        {"evidence",
         absl::StrFormat(
             "per step (mean %.2f ms): attention GPUs busy %.2f ms (compute %.2f, "
             "HBM %.2f, launch and host %.2f), expert GPUs busy %.2f ms (compute "
             "%.2f, HBM %.2f), fabric busy %.2f ms (dispatches %.2f, combines %.2f, in opposite "
             "directions)",
             step_ms, attention_busy * 1e3, x.attention.compute_s / steps * 1e3,
             x.attention.memory_s / steps * 1e3,
             (x.attention.launch_s + x.attention.host_s) / steps * 1e3, expert_busy * 1e3,
             x.experts.compute_s / steps * 1e3, x.experts.memory_s / steps * 1e3, fabric_busy * 1e3,
             x.dispatch_s / steps * 1e3, x.combine_s / steps * 1e3)}}},
      {"memory_gb_per_expert_gpu",
       {{"usable", em.usable_bytes / 1e9},
        {"weights", em.weight_bytes / 1e9},
        {"activation_reserve", em.reserve_bytes / 1e9}}}};
}

}  // namespace moesim
