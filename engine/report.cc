#include "engine/report.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "engine/step_model.h"

namespace moesim {

double Percentile(std::vector<double>& v, double pct) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = pct / 100.0 * double(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

namespace {

nlohmann::json Distribution(std::vector<double> v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean = v.empty() ? 0.0 : mean / double(v.size());
  return {{"mean", mean},
          {"p50", Percentile(v, 50)},
          {"p90", Percentile(v, 90)},
          {"p99", Percentile(v, 99)},
          {"count", v.size()}};
}

// tokens / seconds, or null when the subsystem takes no time (unbounded).
nlohmann::json UpperBound(double tokens, double seconds, int gpus_per_instance) {
  if (!(seconds > 0)) return nullptr;
  return tokens / seconds / gpus_per_instance;
}

}  // namespace

nlohmann::json BuildReport(const Scenario& s, const MetricsCollector& m,
                           const FabricContext& fabric) {
  const double window = m.window_s();
  const int instances = s.deployment.instances;
  const int gpi = s.deployment.gpus_per_instance();
  const int gpus = s.total_gpus();
  const GpuSpec& gpu = s.hardware.gpu;

  // --- Totals over instances -----------------------------------------------------------------
  InstanceTotals all;
  for (const InstanceTotals& t : m.instances()) {
    all.step_time_s += t.step_time_s;
    all.steps += t.steps;
    all.tokens += t.tokens;
    all.output_tokens += t.output_tokens;
    all.running_weighted += t.running_weighted;
    all.waiting_weighted += t.waiting_weighted;
    all.kv_used_weighted += t.kv_used_weighted;
    all.kv_peak = std::max(all.kv_peak, t.kv_peak);
    all.max_running = std::max(all.max_running, t.max_running);
    all.moe_imbalance_sum += t.moe_imbalance_sum;
    all.moe_imbalance_max = std::max(all.moe_imbalance_max, t.moe_imbalance_max);
    all.breakdown.Add(t.breakdown);
  }
  const double instance_time = window * instances;  // per-GPU seconds of one rank per instance
  const TimeBreakdown& b = all.breakdown;
  const double idle_s = std::max(0.0, instance_time - b.Total());
  const double out_tps = double(all.output_tokens) / window;

  nlohmann::json r = nlohmann::json::object();
  r["scenario"] = s.name;
  r["plan"] = {{"gpu", gpu.name},
               {"model", s.model.name},
               {"runtime", s.runtime.name},
               {"execution_mode", ExecutionModeName(s.runtime.mode)},
               {"tensor_parallel", s.deployment.plan.tp},
               {"pipeline_parallel", s.deployment.plan.pp},
               {"attention", s.deployment.plan.dp_attention ? "data_parallel" : "tensor_parallel"},
               {"expert_parallel", s.deployment.plan.ep},
               {"instances", instances},
               {"gpus", gpus},
               {"fidelity", FidelityName(s.simulation.fidelity)},
               {"collectives", CollectiveFidelityName(s.simulation.collectives)}};
  if (s.deployment.plan.dp_attention) {
    r["plan"]["two_batch_overlap"] = s.deployment.two_batch_overlap;
    r["plan"]["moe_dispatch"] = MoeDispatchName(s.deployment.moe_dispatch);
  }
  r["window_s"] = window;

  // --- Throughput and latency ------------------------------------------------------------------
  std::vector<double> ttft, tpot, e2e, per_user;
  for (const RequestRecord& q : m.requests()) {
    ttft.push_back(q.first_token_s - q.arrival_s);
    e2e.push_back(q.finish_s - q.arrival_s);
    if (q.output_tokens > 1) {
      const double t = (q.finish_s - q.first_token_s) / double(q.output_tokens - 1);
      tpot.push_back(t);
      if (t > 0) per_user.push_back(1.0 / t);
    }
  }
  double per_user_mean = 0;
  for (double x : per_user) per_user_mean += x;
  per_user_mean = per_user.empty() ? 0.0 : per_user_mean / double(per_user.size());
  r["throughput"] = {{"output_tok_per_s", out_tps},
                     {"total_tok_per_s", double(all.tokens) / window},
                     {"output_tok_per_s_per_instance", out_tps / instances},
                     {"output_tok_per_s_per_gpu", out_tps / gpus},
                     {"total_tok_per_s_per_gpu", double(all.tokens) / window / gpus},
                     {"requests_per_s", double(m.requests().size()) / window},
                     {"per_user_output_tok_per_s", per_user_mean}};
  r["latency_s"] = {
      {"ttft", Distribution(ttft)}, {"tpot", Distribution(tpot)}, {"e2e", Distribution(e2e)}};
  r["batch"] = {{"mean_running", all.running_weighted / instance_time},
                {"mean_queued", all.waiting_weighted / instance_time},
                {"max_running_per_micro_batch", all.max_running},
                {"steps", all.steps},
                {"mean_step_ms", all.steps > 0 ? all.step_time_s / double(all.steps) * 1e3 : 0.0}};
  const KvFootprint fp = s.Footprint();
  r["kv"] = {{"capacity_blocks", s.memory.kv_blocks},
             {"capacity_tokens", s.memory.kv_capacity_tokens},
             {"block_tokens", fp.block_tokens()},
             {"mean_utilisation", all.kv_used_weighted / instance_time},
             {"peak_utilisation", all.kv_peak},
             {"preemptions", m.preemptions()}};
  r["memory_gb_per_gpu"] = {{"usable", s.memory.usable_bytes / 1e9},
                            {"weights", s.memory.weight_bytes / 1e9},
                            {"activation_reserve", s.memory.reserve_bytes / 1e9},
                            {"linear_state_pool", s.memory.state_pool_bytes / 1e9},
                            {"kv_cache", s.memory.kv_budget_bytes / 1e9}};

  // --- Utilisation and time shares (per GPU) ---------------------------------------------------
  const DType main_dtype = s.model.expert_weight_dtype;
  const double busy = b.Busy() / instance_time;
  r["utilisation"] = {{"gpu_busy", busy},
                      {"hbm_bandwidth", b.hbm_bytes / (instance_time * gpu.HbmBytesPerSecond())},
                      {"compute", b.flops / (instance_time * gpu.PeakFlops(main_dtype))},
                      {"compute_dtype", DTypeName(main_dtype)}};
  const double share_den = instance_time > 0 ? instance_time : 1.0;
  nlohmann::json shares = {
      {"compute", b.compute_s / share_den},        {"memory", b.memory_s / share_den},
      {"launch_overhead", b.launch_s / share_den}, {"host_overhead", b.host_s / share_den},
      {"communication", b.comm_s / share_den},     {"idle", idle_s / share_den}};
  r["time_share"] = shares;

  // --- Limit attribution -----------------------------------------------------------------------
  const double mean_running = all.running_weighted / instance_time;
  const double mean_queued = all.waiting_weighted / instance_time;
  const double kv_mean = all.kv_used_weighted / instance_time;
  std::string limit;
  std::string evidence;
  // The running-sequence cap of an instance: max_num_seqs, per GPU under DP attention (every
  // rank schedules its own sequences; step records hold the group's total).
  const int64_t running_cap =
      int64_t(s.runtime.MaxNumSeqs()) * (s.deployment.plan.dp_attention ? s.deployment.plan.ep : 1);
  if (mean_queued > 0.05 * std::max(1.0, mean_running) && kv_mean > 0.9) {
    limit = "kv_capacity";
    evidence = absl::StrFormat(
        "%.0f sequences queue on average while the KV cache is %.0f%% full (capacity %d tokens)",
        mean_queued, 100 * kv_mean, s.memory.kv_capacity_tokens);
  } else if (mean_queued > 0.05 * std::max(1.0, mean_running) &&
             all.max_running * s.deployment.plan.pp >= running_cap) {
    limit = "max_num_seqs";
    evidence = absl::StrFormat(
        "%.0f sequences queue on average behind the scheduler cap of %d running sequences%s",
        mean_queued, s.runtime.MaxNumSeqs(),
        s.deployment.plan.dp_attention ? " on each GPU of the DP-attention group" : "");

  } else {
    const std::pair<const char*, double> parts[] = {
        {"compute", b.compute_s},    {"hbm", b.memory_s},         {"launch_overhead", b.launch_s},
        {"host_overhead", b.host_s}, {"communication", b.comm_s}, {"idle", idle_s}};
    const auto* best = &parts[0];
    for (const auto& p : parts) {
      if (p.second > best->second) best = &p;
    }
    limit = best->first;
    evidence = absl::StrFormat(
        "%.0f%% of GPU time: compute %.0f%%, HBM %.0f%%, launch %.0f%%, "
        "host %.0f%%, communication %.0f%%, idle %.0f%%",
        100 * best->second / share_den, 100 * b.compute_s / share_den, 100 * b.memory_s / share_den,
        100 * b.launch_s / share_den, 100 * b.host_s / share_den, 100 * b.comm_s / share_den,
        100 * idle_s / share_den);
  }
  r["limit"] = {{"subsystem", limit}, {"evidence", evidence}};

  // --- Analytic upper bounds in tok/s/GPU ------------------------------------------------------
  // Each is the throughput if only that subsystem took time, at the simulated operating point:
  // compute at dense peak, HBM at peak bandwidth, launch/host as simulated, communication as
  // simulated; kv_capacity is the throughput of the largest decode batch that fits in KV.
  const double out = double(all.output_tokens);
  nlohmann::json bounds = nlohmann::json::object();
  bounds["compute"] = UpperBound(out, b.flops / gpu.PeakFlops(main_dtype), gpi);
  bounds["hbm"] = UpperBound(out, b.hbm_bytes / gpu.HbmBytesPerSecond(), gpi);
  bounds["launch_and_host"] = UpperBound(out, b.launch_s + b.host_s, gpi);
  bounds["communication"] = UpperBound(out, b.comm_s, gpi);
  const double mean_context =
      s.workload.input_tokens.Mean() + 0.5 * s.workload.output_tokens.Mean();
  const int64_t per_seq_blocks = fp.BlocksFor(static_cast<int64_t>(std::ceil(mean_context)));
  const int64_t kv_seqs = per_seq_blocks > 0 ? s.memory.kv_blocks / per_seq_blocks : 0;
  if (kv_seqs > 0 && fabric.instance != nullptr) {
    // pp micro-batches of kv_seqs / pp sequences in flight; one round takes the longer of the
    // slowest stage × pp and one micro-batch's trip through every stage.
    const int pp = s.deployment.plan.pp;
    const int64_t per_batch = std::max<int64_t>(1, kv_seqs / pp);
    const StepEstimate e =
        EstimateStep(s, *fabric.instance, DecodeBatch(s, per_batch, mean_context), per_batch);
    const double round = std::max(e.seconds, pp * e.max_stage_s);
    // Under DP attention every GPU of the group holds its own sequences' KV.
    const double ranks = s.deployment.plan.dp_attention ? s.deployment.plan.ep : 1.0;
    bounds["kv_capacity"] = UpperBound(double(per_batch * pp) * ranks, round, gpi);
    bounds["kv_capacity_sequences"] = kv_seqs * static_cast<int64_t>(ranks);

  } else {
    bounds["kv_capacity"] = 0.0;
    bounds["kv_capacity_sequences"] = 0;
  }
  // Communication bound per tier: throughput if only collectives bottlenecked on that tier took
  // time.
  nlohmann::json comm_tiers = nlohmann::json::object();
  for (int t = 0; t < kLinkTierCount; ++t) {
    comm_tiers[LinkTierName(static_cast<LinkTier>(t))] = UpperBound(out, b.comm_tier_s[t], gpi);
  }
  bounds["communication_by_tier"] = comm_tiers;
  r["bounds_tok_per_s_per_gpu"] = bounds;

  // --- Fabric load per tier --------------------------------------------------------------------
  nlohmann::json tiers = nlohmann::json::object();
  for (int t = 0; t < kLinkTierCount; ++t) {
    const double bytes = b.tier_bytes[t];
    const double rate = bytes / window;
    const double cap = fabric.tier_capacity_bytes_per_s[t];
    // bytes: payload × links of the tier crossed; capacity: Σ bandwidth of the tier's link
    // directions the deployment's collectives use. The bound is seed 002's: the tokens/s at
    // which those bytes would fill that capacity.
    tiers[LinkTierName(static_cast<LinkTier>(t))] = {
        {"bytes", bytes},
        {"gb_per_s", rate / 1e9},
        {"capacity_gb_per_s", cap / 1e9},
        {"utilisation", cap > 0 ? rate / cap : 0.0},
        {"comm_time_share", b.comm_tier_s[t] / share_den},
        {"bound_tok_per_s_per_gpu",
         cap > 0 ? UpperBound(out, bytes / cap, gpi) : nlohmann::json(nullptr)}};
  }
  r["fabric"] = {{"tiers", tiers},
                 {"scaleup_fabric", s.cluster().scaleup.name},
                 {"scaleout_fabric", s.cluster().scaleout.name},
                 {"interrack_fabric", s.cluster().interrack.name}};

  // --- Expert parallelism ----------------------------------------------------------------------
  if (s.routing) {
    r["moe"] = {
        {"routing", RoutingSpecToJson(*s.routing)},
        {"expert_placement", PlacementSpecToJson(s.deployment.expert_placement)},
        {"mean_gpu_imbalance", all.steps > 0 ? all.moe_imbalance_sum / double(all.steps) : 0.0},
        {"max_gpu_imbalance", all.moe_imbalance_max}};
  } else {
    r["moe"] = {{"routing", "expected_uniform"}};
  }

  // --- Warnings --------------------------------------------------------------------------------

  nlohmann::json warnings = nlohmann::json::array();
  const size_t finished = m.requests().size();
  if (finished < 30) {
    warnings.push_back(absl::StrFormat(
        "only %d requests finished in the %.0f s measurement window: latency percentiles are not "
        "steady-state (lengthen simulation.duration_s)",
        finished, window));
  } else if (Percentile(e2e, 50) > 0.5 * window) {
    warnings.push_back(absl::StrFormat(
        "the median request lasts %.0f s, over half the %.0f s window: the measured requests "
        "arrived during warm-up (lengthen simulation.duration_s)",
        Percentile(e2e, 50), window));
  }
  r["warnings"] = warnings;

  // --- Power and cost ----------------------------------------------------------------------------

  // DCGM-comparable counters (fields 1002, 1004, 1005), per GPU over the window:
  //  sm_active: kernel time beyond each kernel's fixed cost (launch ramp and tail leave SMs
  //    idle), the share of time warps are resident;
  //  tensor_active: tensor-core FLOPs at the dense bf16 peak (seed 000: H200 fp8 MMAs keep the
  //    pipe busy as many cycles per FLOP as bf16; its 17.0 % at 25.5K tok/s is matched so);
  //  dram_active: HBM bytes over peak bandwidth.
  const double sm_active = std::min(1.0, b.sm_active_s / share_den);
  r["dcgm"] = {{"sm_active", sm_active},
               {"tensor_active", std::min(1.0, b.tensor_active_s / share_den)},
               {"dram_active", std::min(1.0, b.hbm_bytes / (share_den * gpu.HbmBytesPerSecond()))}};
  // Power follows SM activity: seed 000's DCGM columns give 135 W at 3.6 % SM active and 623 W
  // at 89.1 % on the H200 (idle_w and tdp_w of the GPU presets are that line's ends).
  const double watts = gpu.idle_w + (gpu.tdp_w - gpu.idle_w) * sm_active;
  r["power"] = {{"mean_w_per_gpu", watts},
                {"total_w", watts * gpus},
                {"joules_per_output_token", out_tps > 0 ? watts * gpus / out_tps : 0.0}};
  const double usd_per_hour = s.economics.usd_per_gpu_hour * gpus;
  r["cost"] = {{"usd_per_gpu_hour", s.economics.usd_per_gpu_hour},
               {"usd_per_hour", usd_per_hour},
               {"usd_per_million_output_tokens",
                out_tps > 0 ? nlohmann::json(usd_per_hour / (out_tps * 3600.0) * 1e6)
                            : nlohmann::json(nullptr)}};
  return r;
}

}  // namespace moesim
