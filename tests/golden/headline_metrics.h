// The headline numbers of a report that golden files pin down (tests/golden/golden_test.cc).
//
// A dozen-odd dotted report paths that together cover throughput, latency, batching, KV, GPU
// time, the limit, fabric bytes per tier and cost. Numbers compare with a relative tolerance of
// 1e-9 (runs are byte-deterministic; the margin only absorbs the text round trip).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace moesim {

inline const std::vector<std::string>& HeadlinePaths() {
  static const std::vector<std::string> paths = {
      "throughput.output_tok_per_s",
      "throughput.total_tok_per_s",
      "throughput.output_tok_per_s_per_gpu",
      "latency_s.ttft.p50",
      "latency_s.ttft.p90",
      "latency_s.tpot.p50",
      "latency_s.tpot.p90",
      "latency_s.e2e.p50",
      "batch.mean_running",
      "batch.mean_queued",
      "batch.steps",
      "batch.mean_step_ms",
      "kv.capacity_tokens",
      "kv.mean_utilisation",
      "utilisation.gpu_busy",
      "limit.subsystem",
      "fabric.tiers.scale_up.bytes",
      "fabric.tiers.scale_out.bytes",
      "fabric.tiers.inter_rack.bytes",
      "cost.usd_per_million_output_tokens",
  };
  return paths;
}

// The value at a dotted path of `report`, or null when absent.
inline nlohmann::json AtDottedPath(const nlohmann::json& report, const std::string& path) {
  const nlohmann::json* node = &report;
  size_t begin = 0;
  while (begin <= path.size()) {
    const size_t end = std::min(path.find('.', begin), path.size());
    const std::string key = path.substr(begin, end - begin);
    if (node->is_array() && !key.empty() &&
        key.find_first_not_of("0123456789") == std::string::npos) {  // an array index
      const size_t i = std::stoul(key);
      if (i >= node->size()) return nullptr;
      node = &(*node)[i];
    } else {
      if (!node->is_object() || !node->contains(key)) return nullptr;
      node = &(*node)[key];
    }
    begin = end + 1;
  }
  return *node;
}

// More headline paths for reports of several pools (engine/plan_report.h): the limiting pool,
// per-GPU throughput over all pools, each pool's busy share, and the prefill -> decode hand-off.
inline const std::vector<std::string>& PlanHeadlinePaths() {
  static const std::vector<std::string> paths = {
      "limit.pool",
      "throughput.total_tok_per_s_per_gpu",
      "throughput.output_tok_per_s_per_decode_gpu",
      "pools.prefill.utilisation.gpu_busy",
      "pools.decode.utilisation.gpu_busy",
      "latency_s.ttft_stages.prefill_queue.mean",
      "latency_s.ttft_stages.decode_reservation.mean",
      "latency_s.ttft_stages.kv_transfer.mean",
      "disaggregation.kv_transfer.bytes",
      "disaggregation.kv_transfer.tiers.scale_up.bytes",
      "disaggregation.kv_transfer.tiers.scale_out.bytes",
      "disaggregation.decode_back_pressure.mean_waiting_requests",
  };
  return paths;
}

// {path: value} for every headline path (and the plan paths for reports of several pools; the
// RLVR paths for RLVR reports).
// The headline paths of an RLVR report (engine/rlvr_report.h).
inline const std::vector<std::string>& RlvrHeadlinePaths() {
  static const std::vector<std::string> paths = {
      "plan.gpus",
      "rlvr.step_time_s",
      "rlvr.split_s.rollout",
      "rlvr.split_s.rollout_slowest_10pct",
      "rlvr.split_s.training",
      "rlvr.split_s.weight_sync",
      "rlvr.split_s.switch",
      "rlvr.response_tokens_per_step",
      "rlvr.usd_per_step",
      "rlvr.rollout_usd_per_million_tokens",
      "rlvr.rollout_preemptions",
      "rlvr.weight_sync.bytes_per_step",
      "rlvr.limits.step",
  };
  return paths;
}

// More headline paths for reports with a KV hierarchy (engine/kv_tier_report.h).
inline const std::vector<std::string>& KvHierarchyHeadlinePaths() {
  static const std::vector<std::string> paths = {
      "kv_hierarchy.prefix_cache.hit_ratio.hbm",
      "kv_hierarchy.prefix_cache.hit_ratio.host",
      "kv_hierarchy.host_link.to_host_gb",
      "kv_hierarchy.host_link.from_host_gb",
      "kv_hierarchy.io_wait_share_of_step_time",
      "kv_hierarchy.preemptions.swap",
      "kv_hierarchy.limit.subsystem",
  };
  return paths;
}

// And for reports with an SSD tier.
inline const std::vector<std::string>& SsdTierHeadlinePaths() {
  static const std::vector<std::string> paths = {
      "kv_hierarchy.prefix_cache.hit_ratio.ssd",
      "kv_hierarchy.ssd_tier.read_gb",
      "kv_hierarchy.ssd_tier.write_gb",
      "kv_hierarchy.ssd_tier.peak_used_blocks",
  };
  return paths;
}

// And for reports with faults (engine/fault_injection.h).
inline const std::vector<std::string>& FaultHeadlinePaths() {
  static const std::vector<std::string> paths = {
      "faults.requests_retried",           "faults.retried_requests_finished",
      "faults.events.0.tokens_recomputed", "faults.events.0.output_tok_per_s_lowest_after",
      "faults.events.0.time_to_recover_s",
  };
  return paths;
}

inline nlohmann::json HeadlineMetrics(const nlohmann::json& report) {
  nlohmann::json out = nlohmann::json::object();
  if (report.contains("kind") && report["kind"] == "rlvr") {
    for (const std::string& p : RlvrHeadlinePaths()) out[p] = AtDottedPath(report, p);
    return out;
  }
  for (const std::string& p : HeadlinePaths()) out[p] = AtDottedPath(report, p);
  if (report.contains("pools")) {
    for (const std::string& p : PlanHeadlinePaths()) out[p] = AtDottedPath(report, p);
  }
  if (report.contains("kv_hierarchy")) {
    for (const std::string& p : KvHierarchyHeadlinePaths()) out[p] = AtDottedPath(report, p);
  }
  if (report.contains("kv_hierarchy") && report["kv_hierarchy"].contains("ssd_tier")) {
    for (const std::string& p : SsdTierHeadlinePaths()) out[p] = AtDottedPath(report, p);
  }
  if (report.contains("faults")) {
    for (const std::string& p : FaultHeadlinePaths()) out[p] = AtDottedPath(report, p);
  }
  return out;
}

inline bool SameMetric(const nlohmann::json& expected, const nlohmann::json& actual) {
  if (expected.is_number() && actual.is_number()) {
    const double e = expected.get<double>(), a = actual.get<double>();
    return std::fabs(e - a) <= 1e-9 * std::max(std::fabs(e), std::fabs(a)) + 1e-12;
  }
  return expected == actual;
}

// tests/golden/<scenario path relative to scenarios/>.
inline std::string GoldenPathFor(const std::string& source_dir, const std::string& rel) {
  return source_dir + "/tests/golden/" + rel;
}

}  // namespace moesim
