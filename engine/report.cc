#include "engine/report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "engine/afd_report.h"
#include "engine/kv_tier_report.h"
#include "models/invariant.h"

namespace moesim {

double Percentile(std::vector<double>& v, double pct) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = pct / 100.0 * double(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

nlohmann::json Distribution(std::vector<double> v) {
  // An empty sample has no statistics: null, not zero (the count says why).
  if (v.empty()) {
    return {{"mean", nullptr}, {"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"count", 0}};
  }
  double mean = 0;
  for (double x : v) mean += x;
  mean = v.empty() ? 0.0 : mean / double(v.size());
  return {{"mean", mean},
          {"p50", Percentile(v, 50)},
          {"p90", Percentile(v, 90)},
          {"p99", Percentile(v, 99)},
          {"count", v.size()}};
}

namespace {

// tokens / seconds, or null when the subsystem takes no time (unbounded).
nlohmann::json UpperBound(double tokens, double seconds, int gpus_per_instance) {
  if (!(seconds > 0)) return nullptr;
  return tokens / seconds / gpus_per_instance;
}

}  // namespace

namespace {

// What every section of the report reads: the scenario, the totals over instances, and the
// measurement window's derived quantities.
struct ReportInputs {
  const Scenario& s;
  const PoolContext& pool;  // the pool simulated
  const MetricsCollector& m;
  const FabricContext& fabric;
  InstanceTotals all;
  double window = 0;
  double instance_time = 0;  // window × instances: per-GPU seconds of one rank per instance
  double share_den = 1;      // instance_time, or 1 when it is 0
  double idle_s = 0;
  double out_tps = 0;
  int gpi = 1;  // GPUs per instance
  int gpus = 1;
  DType main_dtype = DType::kBf16;
};

// Schedulers per instance: every GPU of a DP-attention group, the attention GPUs of an
// attention/FFN-disaggregated one, else one.
int SchedulingRanks(const PoolContext& p) {
  if (p.deployment().attention_ffn.enabled()) return p.deployment().attention_ffn.attention_gpus;
  return p.plan().dp_attention ? p.plan().ep : 1;
}

InstanceTotals SumInstances(const MetricsCollector& m) {
  InstanceTotals all;
  for (const InstanceTotals& t : m.instances()) {
    all.step_time_s += t.step_time_s;
    all.steps += t.steps;
    all.tokens += t.tokens;
    all.input_tokens += t.input_tokens;
    all.output_tokens += t.output_tokens;
    all.running_weighted += t.running_weighted;
    all.waiting_weighted += t.waiting_weighted;
    all.kv_used_weighted += t.kv_used_weighted;
    all.kv_peak = std::max(all.kv_peak, t.kv_peak);
    all.max_running = std::max(all.max_running, t.max_running);
    all.moe_imbalance_sum += t.moe_imbalance_sum;
    all.moe_imbalance_max = std::max(all.moe_imbalance_max, t.moe_imbalance_max);
    all.breakdown.Add(t.breakdown);
    all.afd.Add(t.afd);
    all.kv_tiers.Add(t.kv_tiers);
  }
  return all;
}

nlohmann::json PlanSection(const Scenario& s, const PoolContext& p) {
  nlohmann::json plan = {{"gpu", p.gpu().name},
                         {"model", s.model.name},
                         {"runtime", p.runtime().name},
                         {"execution_mode", ExecutionModeName(p.runtime().mode)},
                         {"tensor_parallel", p.plan().tp},
                         {"pipeline_parallel", p.plan().pp},
                         {"attention", p.plan().dp_attention ? "data_parallel" : "tensor_parallel"},
                         {"expert_parallel", p.plan().ep},
                         {"instances", p.deployment().instances},
                         {"gpus", p.total_gpus()},
                         {"fidelity", FidelityName(s.simulation.fidelity)},
                         {"collectives", CollectiveFidelityName(p.collectives)}};
  if (p.deployment().draft_gpus > 0) plan["draft_gpus_per_instance"] = p.deployment().draft_gpus;
  if (p.deployment().attention_ffn.enabled()) {
    const DeploymentSpec::AttentionFfn& a = p.deployment().attention_ffn;
    plan["attention"] = "attention_ffn_disaggregated";
    plan["attention_gpus"] = a.attention_gpus;
    plan["expert_gpus"] = a.expert_gpus;
    plan["micro_batches"] = a.micro_batches;
  } else if (p.plan().dp_attention) {
    plan["two_batch_overlap"] = p.deployment().two_batch_overlap;
    plan["moe_dispatch"] = MoeDispatchName(p.deployment().moe_dispatch);
    if (p.deployment().moe_tensor_sharded) plan["moe_sharding"] = "tensor";
  }
  if (const auto& balance = p.runtime().attention_dp_balance) {
    plan["attention_dp_balance"] = {{"timeout_iters", balance->timeout_iters},
                                    {"batching_wait_iters", balance->batching_wait_iters}};
  }
  return plan;
}

// throughput and batch.
void AddThroughput(const ReportInputs& in, nlohmann::json& r) {
  const double per_user_mean = MeanPerUserTokPerS(in.m.requests());
  // Input + output tokens, as serving benchmarks count them (vLLM's and InferenceX's total
  // token throughput): each prompt once, cached tokens included, and the tokens sampled; not
  // the verification positions a speculative step also processes.
  const double input_tps = double(in.all.input_tokens) / in.window;
  const double total_tps = input_tps + in.out_tps;
  r["throughput"] = {{"output_tok_per_s", in.out_tps},
                     {"input_tok_per_s", input_tps},
                     {"total_tok_per_s", total_tps},
                     // What the GPUs computed: prompt tokens prefilled (cache hits not, a
                     // recomputation again), decode tokens and verified draft positions.
                     {"processed_tok_per_s", double(in.all.tokens) / in.window},
                     {"output_tok_per_s_per_instance", in.out_tps / in.pool.deployment().instances},
                     {"output_tok_per_s_per_gpu", in.out_tps / in.gpus},
                     {"total_tok_per_s_per_gpu", total_tps / in.gpus},
                     {"requests_per_s", double(in.m.requests().size()) / in.window},
                     {"per_user_output_tok_per_s", PerUserJson(per_user_mean)}};
  const InstanceTotals& all = in.all;
  r["batch"] = {{"mean_running", all.running_weighted / in.instance_time},
                {"mean_queued", all.waiting_weighted / in.instance_time},
                {"max_running_per_micro_batch", all.max_running},
                {"steps", all.steps},
                {"mean_step_ms", all.steps > 0 ? all.step_time_s / double(all.steps) * 1e3 : 0.0}};
}

void AddMemory(const ReportInputs& in, nlohmann::json& r) {
  const PoolContext& p = in.pool;
  r["kv"] = {{"capacity_blocks", p.memory().kv_blocks},
             {"capacity_tokens", p.memory().kv_capacity_tokens},
             {"block_tokens", p.Footprint().block_tokens()},
             {"mean_utilisation", in.all.kv_used_weighted / in.instance_time},
             {"peak_utilisation", in.all.kv_peak},
             {"preemptions", in.m.preemptions()}};
  r["memory_gb_per_gpu"] = {{"usable", p.memory().usable_bytes / 1e9},
                            {"weights", p.memory().weight_bytes / 1e9},
                            {"activation_reserve", p.memory().reserve_bytes / 1e9},
                            {"linear_state_pool", p.memory().state_pool_bytes / 1e9},
                            {"kv_cache", p.memory().kv_budget_bytes / 1e9}};
  if (p.deployment().draft_gpus > 0) {
    // A draft model on GPUs of its own: its weights and KV there; the instance's KV capacity
    // above is the smaller of the target's and the draft's.
    const MemoryPlan& d = p.deployed.draft_memory;
    r["memory_gb_per_draft_gpu"] = {{"usable", d.usable_bytes / 1e9},
                                    {"weights", d.weight_bytes / 1e9},
                                    {"activation_reserve", d.reserve_bytes / 1e9},
                                    {"kv_cache", d.kv_budget_bytes / 1e9},
                                    {"kv_capacity_tokens", d.kv_capacity_tokens}};
  }
}

void AddUtilisation(const ReportInputs& in, nlohmann::json& r) {
  const TimeBreakdown& b = in.all.breakdown;
  const GpuSpec& gpu = in.pool.gpu();
  r["utilisation"] = {{"gpu_busy", b.Busy() / in.instance_time},
                      {"hbm_bandwidth", b.hbm_bytes / (in.instance_time * gpu.HbmBytesPerSecond())},
                      {"compute", b.flops / (in.instance_time * gpu.PeakFlops(in.main_dtype))},
                      {"compute_dtype", DTypeName(in.main_dtype)}};
  const double d = in.share_den;
  r["time_share"] = {{"compute", b.compute_s / d},        {"memory", b.memory_s / d},
                     {"launch_overhead", b.launch_s / d}, {"host_overhead", b.host_s / d},
                     {"communication", b.comm_s / d},     {"idle", in.idle_s / d}};
}

// The limiting subsystem and the evidence for it.
nlohmann::json LimitSection(const ReportInputs& in) {
  const PoolContext& p = in.pool;
  const TimeBreakdown& b = in.all.breakdown;
  const double mean_running = in.all.running_weighted / in.instance_time;
  const double mean_queued = in.all.waiting_weighted / in.instance_time;
  const double kv_mean = in.all.kv_used_weighted / in.instance_time;
  // The running-sequence cap of an instance: max_num_seqs, per GPU under DP attention (every
  // rank schedules its own sequences; step records hold the group's total).
  const int64_t running_cap = int64_t(p.runtime().MaxNumSeqs()) * SchedulingRanks(p);
  const bool queueing = mean_queued > 0.05 * std::max(1.0, mean_running);
  // Capacity offload lifts the KV limit to HBM + host DRAM: waiting for those copies is then
  // what the queue waits on.
  const bool offloading =
      p.kv_hierarchy && p.kv_hierarchy->capacity_offload && in.all.kv_tiers.io_wait_s > 0;
  if (queueing && kv_mean > 0.9 && !offloading) {
    return {
        {"subsystem", "kv_capacity"},
        {"evidence", absl::StrFormat("%.0f sequences queue on average while the KV cache is "
                                     "%.0f%% full (capacity %d tokens)",
                                     mean_queued, 100 * kv_mean, p.memory().kv_capacity_tokens)}};
  }
  if (queueing && in.all.max_running * p.plan().pp >= running_cap) {
    return {
        {"subsystem", "max_num_seqs"},
        {"evidence",
         absl::StrFormat("%.0f sequences queue on average behind the scheduler cap of %d running "
                         "sequences%s",
                         mean_queued, p.runtime().MaxNumSeqs(),
                         p.plan().dp_attention ? " on each GPU of the DP-attention group" : "")}};
  }
  // KV hierarchy: the GPUs' idle time spent waiting for KV copies over the host links or SSDs (the
  // step waits are lane time; a pipeline's lanes overlap, so they count once per stage).
  const double io_wait = std::min(in.idle_s, in.all.kv_tiers.io_wait_s / std::max(1, p.plan().pp));
  const double idle = in.idle_s - io_wait;
  const char* kv_io = KvIoUtilisationOf(p, in.all.kv_tiers, in.window).LimitName();
  const std::pair<const char*, double> parts[] = {{"compute", b.compute_s},
                                                  {"hbm", b.memory_s},
                                                  {"launch_overhead", b.launch_s},
                                                  {"host_overhead", b.host_s},
                                                  {"communication", b.comm_s},
                                                  {"idle", idle},
                                                  {kv_io, io_wait}};
  const auto* best = &parts[0];
  for (const auto& p : parts) {
    if (p.second > best->second) best = &p;
  }
  const double d = in.share_den;
  std::string evidence = absl::StrFormat(
      "%.0f%% of GPU time: compute %.0f%%, HBM %.0f%%, launch %.0f%%, host %.0f%%, "
      "communication %.0f%%, idle %.0f%%",
      100 * best->second / d, 100 * b.compute_s / d, 100 * b.memory_s / d, 100 * b.launch_s / d,
      100 * b.host_s / d, 100 * b.comm_s / d, 100 * idle / d);
  if (io_wait > 0) {
    absl::StrAppendFormat(&evidence, ", waiting for KV copies over the %s %.0f%%",
                          std::string(kv_io) == "kv_ssd" ? "SSDs and host links" : "host links",
                          100 * io_wait / d);
  }
  return {{"subsystem", best->first}, {"evidence", evidence}};
}

// Analytic upper bounds in tok/s/GPU. Each is the throughput if only that subsystem took time,
// at the simulated operating point: compute at dense peak, HBM at peak bandwidth, launch/host as
// simulated, communication as simulated; kv_capacity is the throughput of the largest decode
// batch that fits in KV.
nlohmann::json BoundsSection(const ReportInputs& in) {
  const Scenario& s = in.s;
  const PoolContext& p = in.pool;
  const TimeBreakdown& b = in.all.breakdown;
  const GpuSpec& gpu = p.gpu();
  const double out = double(in.all.output_tokens);
  nlohmann::json bounds = nlohmann::json::object();
  bounds["compute"] = UpperBound(out, b.flops / gpu.PeakFlops(in.main_dtype), in.gpi);
  bounds["hbm"] = UpperBound(out, b.hbm_bytes / gpu.HbmBytesPerSecond(), in.gpi);
  bounds["launch_and_host"] = UpperBound(out, b.launch_s + b.host_s, in.gpi);
  bounds["communication"] = UpperBound(out, b.comm_s, in.gpi);
  const double mean_context =
      s.workload.input_tokens.Mean() + 0.5 * s.workload.output_tokens.Mean();
  const int64_t per_seq_blocks =
      p.Footprint().BlocksFor(static_cast<int64_t>(std::ceil(mean_context)));
  const int64_t kv_seqs = per_seq_blocks > 0 ? p.memory().kv_blocks / per_seq_blocks : 0;
  bounds["kv_capacity"] = 0.0;
  bounds["kv_capacity_sequences"] = 0;
  if (kv_seqs > 0 && in.fabric.estimate_decode) {
    // pp micro-batches of kv_seqs / pp sequences in flight; one round takes the longer of the
    // slowest stage × pp and one micro-batch's trip through every stage.
    const int pp = p.plan().pp;
    const int64_t per_batch = std::max<int64_t>(1, kv_seqs / pp);
    const StepTiming e = in.fabric.estimate_decode(per_batch, mean_context);
    double max_stage = 0;
    for (double span : e.group_span_s) max_stage = std::max(max_stage, span);
    const double round = std::max(e.end_s - e.start_s, pp * max_stage);
    // Under DP attention every GPU of the group holds its own sequences' KV.
    const double ranks = SchedulingRanks(p);
    bounds["kv_capacity"] = UpperBound(double(per_batch * pp) * ranks, round, in.gpi);
    bounds["kv_capacity_sequences"] = kv_seqs * static_cast<int64_t>(ranks);
  }
  // Communication bound per tier: throughput if only collectives bottlenecked on that tier took
  // time.
  nlohmann::json comm_tiers = nlohmann::json::object();
  for (int t = 0; t < kLinkTierCount; ++t) {
    comm_tiers[LinkTierName(static_cast<LinkTier>(t))] = UpperBound(out, b.comm_tier_s[t], in.gpi);
  }
  bounds["communication_by_tier"] = comm_tiers;
  return bounds;
}

nlohmann::json FabricSection(const ReportInputs& in) {
  const TimeBreakdown& b = in.all.breakdown;
  const double out = double(in.all.output_tokens);
  nlohmann::json tiers = nlohmann::json::object();
  // KV offload moves its bytes on every GPU's own host link, both directions.
  const PoolContext& p = in.pool;
  const bool offload = p.kv_hierarchy && p.kv_hierarchy->host_tier();
  for (int t = 0; t < kLinkTierCount; ++t) {
    double bytes = b.tier_bytes[t];
    double cap = in.fabric.tier_capacity_bytes_per_s[t];
    if (offload && t == static_cast<int>(LinkTier::kHost)) {
      bytes += in.all.kv_tiers.to_host_bytes + in.all.kv_tiers.from_host_bytes;
      cap += 2 * p.cluster().host.BytesPerSecond() * p.total_gpus();
    }
    const double rate = bytes / in.window;
    // bytes: payload × links of the tier crossed; capacity: Σ bandwidth of the tier's link
    // directions the deployment's collectives use. The bound is seed 002's: the tokens/s at
    // which those bytes would fill that capacity.
    tiers[LinkTierName(static_cast<LinkTier>(t))] = {
        {"bytes", bytes},
        {"gb_per_s", rate / 1e9},
        {"capacity_gb_per_s", cap / 1e9},
        {"utilisation", cap > 0 ? rate / cap : 0.0},
        {"comm_time_share", b.comm_tier_s[t] / in.share_den},
        {"bound_tok_per_s_per_gpu",
         cap > 0 ? UpperBound(out, bytes / cap, in.gpi) : nlohmann::json(nullptr)}};
  }
  const ClusterSpec& c = in.s.cluster();
  return {{"tiers", tiers},
          {"scaleup_fabric", c.scaleup.name},
          {"scaleout_fabric", c.scaleout.name},
          {"interrack_fabric", c.interrack.name}};
}

nlohmann::json MoeSection(const ReportInputs& in) {
  const Scenario& s = in.s;
  const PoolContext& p = in.pool;
  if (!s.routing) return {{"routing", "expected_uniform"}};
  return {{"routing", RoutingSpecToJson(*s.routing)},
          {"expert_placement", PlacementSpecToJson(p.deployment().expert_placement)},
          {"mean_gpu_imbalance",
           in.all.steps > 0 ? in.all.moe_imbalance_sum / double(in.all.steps) : 0.0},
          {"max_gpu_imbalance", in.all.moe_imbalance_max}};
}

// dcgm, power and cost.
void AddPowerAndCost(const ReportInputs& in, nlohmann::json& r) {
  const TimeBreakdown& b = in.all.breakdown;
  const GpuSpec& gpu = in.pool.gpu();
  const double d = in.share_den;
  // DCGM-comparable counters (fields 1002, 1004, 1005), per GPU over the window:
  //  sm_active: kernel time beyond each kernel's fixed cost (launch ramp and tail leave SMs
  //    idle), the share of time warps are resident;
  //  tensor_active: tensor-core FLOPs at the dense bf16 peak (seed 000: H200 fp8 MMAs keep the
  //    pipe busy as many cycles per FLOP as bf16; its 17.0 % at 25.5K tok/s is matched so);
  //  dram_active: HBM bytes over peak bandwidth.
  const double sm_active = std::min(1.0, b.sm_active_s / d);
  r["dcgm"] = {{"sm_active", sm_active},
               {"tensor_active", std::min(1.0, b.tensor_active_s / d)},
               {"dram_active", std::min(1.0, b.hbm_bytes / (d * gpu.HbmBytesPerSecond()))}};
  // Power follows SM activity: seed 000's DCGM columns give 135 W at 3.6 % SM active and 623 W
  // at 89.1 % on the H200 (idle_w and tdp_w of the GPU presets are that line's ends).
  // Attention/FFN plans with an expert side of its own GPU type: each side on its own line.
  const DeploymentSpec::AttentionFfn& afd = in.pool.deployment().attention_ffn;
  const GpuSpec& expert_gpu = afd.ExpertGpu(gpu);
  const double expert_share =
      afd.enabled() ? double(afd.expert_gpus) / (afd.attention_gpus + afd.expert_gpus) : 0.0;
  auto line = [&](const GpuSpec& g) { return g.idle_w + (g.tdp_w - g.idle_w) * sm_active; };
  const double watts = (1 - expert_share) * line(gpu) + expert_share * line(expert_gpu);
  r["power"] = {{"mean_w_per_gpu", watts},
                {"total_w", watts * in.gpus},
                {"joules_per_output_token", in.out_tps > 0 ? watts * in.gpus / in.out_tps : 0.0}};
  const double usd_per_hour = PoolUsdPerHour(in.s, in.pool.deployed);
  r["cost"] = {{"usd_per_gpu_hour", usd_per_hour / in.gpus},
               {"usd_per_hour", usd_per_hour},
               {"usd_per_million_output_tokens",
                in.out_tps > 0 ? nlohmann::json(usd_per_hour / (in.out_tps * 3600.0) * 1e6)
                               : nlohmann::json(nullptr)}};
}

}  // namespace

nlohmann::json LatencySection(const std::vector<RequestRecord>& requests,
                              std::vector<double>* e2e_out) {
  std::vector<double> ttft, tpot, e2e;
  for (const RequestRecord& q : requests) {
    ttft.push_back(q.first_token_s - q.arrival_s);
    e2e.push_back(q.finish_s - q.arrival_s);
    if (q.output_tokens > 1) {
      tpot.push_back((q.finish_s - q.first_token_s) / double(q.output_tokens - 1));
    }
  }
  nlohmann::json j = {
      {"ttft", Distribution(ttft)}, {"tpot", Distribution(tpot)}, {"e2e", Distribution(e2e)}};
  if (e2e_out != nullptr) *e2e_out = std::move(e2e);
  return j;
}

double MeanPerUserTokPerS(const std::vector<RequestRecord>& requests) {
  double sum = 0;
  int64_t n = 0;
  for (const RequestRecord& q : requests) {
    if (q.output_tokens <= 1) continue;
    const double t = (q.finish_s - q.first_token_s) / double(q.output_tokens - 1);
    if (t > 0) {
      sum += 1.0 / t;
      ++n;
    }
  }
  return n > 0 ? sum / double(n) : 0.0;
}

nlohmann::json PerUserJson(double mean) {
  return mean > 0 ? nlohmann::json(mean) : nlohmann::json(nullptr);
}

nlohmann::json WindowWarnings(size_t finished, std::vector<double> e2e, double window,
                              const WorkloadSpec& workload) {
  nlohmann::json warnings = nlohmann::json::array();
  // Open-loop arrivals faster than completions: the queue grows for as long as the run lasts.
  // Flagged when the window's completions fall more than three standard deviations of a Poisson
  // count below the arrivals expected in it (a steady plan completes what arrives).
  const double completed = window > 0 ? double(finished) / window : 0.0;
  const double expected = workload.rate_per_s * window;
  if (workload.arrival == WorkloadSpec::Arrival::kPoisson &&
      double(finished) < expected - 3.0 * std::sqrt(expected)) {
    warnings.push_back(absl::StrFormat(
        "overloaded: requests arrive at %.3g/s but the plan completes %.3g/s in the window; the "
        "queue grows without bound at this load (lower workload.rate_per_s or add capacity)",
        workload.rate_per_s, completed));
  }
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
  return warnings;
}

// Speculative decoding: configured and measured acceptance, draft and verify shares of a step,
// and the verified positions that were rejected (their FLOPs wasted).
nlohmann::json SpeculativeSection(const SpeculativeSpec& spec, const SpeculationReport& r) {
  const SpeculationCounts& c = r.counts;
  const double measured =
      c.verifications > 0 ? 1.0 + double(c.drafts_accepted) / double(c.verifications) : 0.0;
  const double positions = 1.0 + spec.draft_tokens;
  nlohmann::json j = {
      {"method", DraftMethodName(spec.method)},
      {"draft_tokens", spec.draft_tokens},
      {"acceptance_source", spec.acceptance_source},
      {"configured_acceptance_length", spec.ExpectedAcceptanceLength()},
      {"measured_acceptance_length", measured},
      {"verifications", c.verifications},
      {"draft_time_share", r.draft_share},
      {"verify_time_share", 1.0 - r.draft_share},
      {"rejected_position_share", c.verifications > 0 ? 1.0 - measured / positions : 0.0}};
  if (spec.method == DraftMethod::kDraftModel) j["draft_model"] = spec.draft_model.name;
  return j;
}

nlohmann::json BuildPoolSection(const Scenario& s, const PoolContext& pool,
                                const MetricsCollector& m, const FabricContext& fabric,
                                const SpeculationReport* speculation) {
  const PoolContext& p = pool;
  ReportInputs in{s, pool, m, fabric, SumInstances(m)};
  in.window = m.window_s();
  in.instance_time = in.window * p.deployment().instances;
  in.share_den = in.instance_time > 0 ? in.instance_time : 1.0;
  // Time conserved: per GPU, the window is busy (kernels, launches, host work, communication)
  // plus idle; steps that account for more than the window would be a bug of the runner.
  MOESIM_CHECK(in.all.breakdown.Total() <= in.instance_time * (1 + 1e-9) + 1e-12,
               "the instances' GPUs account ", in.all.breakdown.Total(), " s of a ",
               in.instance_time, " s window (", p.deployment().instances, " instances)");
  in.idle_s = std::max(0.0, in.instance_time - in.all.breakdown.Total());
  in.out_tps = double(in.all.output_tokens) / in.window;
  in.gpi = p.gpus_per_instance();
  in.gpus = p.total_gpus();
  in.main_dtype = s.model.expert_weight_dtype;

  nlohmann::json r = nlohmann::json::object();
  r["plan"] = PlanSection(s, pool);
  AddThroughput(in, r);
  AddMemory(in, r);
  AddUtilisation(in, r);
  r["limit"] = LimitSection(in);
  r["bounds_tok_per_s_per_gpu"] = BoundsSection(in);
  r["fabric"] = FabricSection(in);
  r["moe"] = MoeSection(in);
  AddPowerAndCost(in, r);
  if (p.deployment().attention_ffn.enabled()) r["attention_ffn"] = AfdSection(p, in.all);
  if (p.kv_hierarchy) {
    r["kv_hierarchy"] = KvHierarchySection(p, in.all, m.window_s(), m.preemptions());
  }
  // A prefill pool verifies no drafts (its prompts decode elsewhere): no section.
  if (s.speculative && speculation != nullptr && p.deployed.spec.role != PoolRole::kPrefill) {
    r["speculative"] = SpeculativeSection(*s.speculative, *speculation);
  }
  return r;
}

nlohmann::json BuildReport(const Scenario& s, const PoolContext& pool, const MetricsCollector& m,
                           const FabricContext& fabric, const SpeculationReport* speculation) {
  nlohmann::json r = BuildPoolSection(s, pool, m, fabric, speculation);
  r["scenario"] = s.name;
  r["window_s"] = m.window_s();
  std::vector<double> e2e;
  r["latency_s"] = LatencySection(m.requests(), &e2e);
  r["warnings"] = WindowWarnings(m.requests().size(), std::move(e2e), m.window_s(), s.workload);
  return r;
}

}  // namespace moesim
