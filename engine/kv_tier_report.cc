#include "engine/kv_tier_report.h"

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"

namespace moesim {

namespace {

// Thresholds of the limit attribution (a reading aid, not a fitted constant): a share of step
// time spent waiting for copies, and a fill of the host tier, above which each is called the
// limit.
constexpr double kIoWaitLimitShare = 0.10;
constexpr double kHostFullShare = 0.99;

double Ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

int Servers(const PoolContext& p) {
  const int per_server = p.cluster().gpus_per_server;
  return (p.total_gpus() + per_server - 1) / per_server;
}

}  // namespace

KvIoUtilisation KvIoUtilisationOf(const PoolContext& p, const KvTierStats& k, double window_s) {
  KvIoUtilisation u;
  if (!p.kv_hierarchy || !p.kv_hierarchy->host_tier()) return u;
  const double link_bytes = p.cluster().host.BytesPerSecond() * window_s * p.total_gpus();
  u.host_link = std::max(Ratio(k.to_host_bytes, link_bytes), Ratio(k.from_host_bytes, link_bytes));
  if (p.kv_hierarchy->ssd_tier()) {
    const KvStorageSpec& ssd = *p.kv_hierarchy->ssd;
    const double servers_s = window_s * Servers(p);
    u.ssd = std::max(Ratio(k.ssd_read_bytes, ssd.ReadBytesPerSecond() * servers_s),
                     Ratio(k.ssd_write_bytes, ssd.WriteBytesPerSecond() * servers_s));
  }
  return u;
}

nlohmann::json KvHierarchySection(const PoolContext& p, const InstanceTotals& all, double window_s,
                                  int64_t preemptions) {
  const KvHierarchySpec& spec = *p.kv_hierarchy;
  const KvTierStats& k = all.kv_tiers;
  const KvFootprint footprint = p.Footprint();
  const int instances = p.deployment().instances;
  const int gpus = p.total_gpus();
  const double block_bytes = footprint.BlockBytes();
  const FabricSpec& link = p.cluster().host;

  nlohmann::json r = nlohmann::json::object();
  // A decode pool's sequences arrive with their KV: it looks no prompt up.
  r["prefix_caching"] = spec.prefix_caching && p.deployed.spec.role != PoolRole::kDecode;
  r["preemption"] = KvPreemptionName(spec.preemption);
  r["capacity_offload"] = spec.capacity_offload;

  const double lookup = double(k.lookup_tokens);
  const double hits = double(k.hbm_hit_tokens + k.host_hit_tokens + k.ssd_hit_tokens);
  r["prefix_cache"] = {{"lookup_tokens", k.lookup_tokens},
                       {"hbm_hit_tokens", k.hbm_hit_tokens},
                       {"host_hit_tokens", k.host_hit_tokens},
                       {"ssd_hit_tokens", k.ssd_hit_tokens},
                       {"hit_ratio",
                        {{"hbm", Ratio(double(k.hbm_hit_tokens), lookup)},
                         {"host", Ratio(double(k.host_hit_tokens), lookup)},
                         {"ssd", Ratio(double(k.ssd_hit_tokens), lookup)},
                         {"total", Ratio(hits, lookup)}}},
                       {"evicted_blocks", k.evicted_blocks},
                       {"dropped_blocks", k.dropped_blocks}};

  const double host_bytes_per_gpu = spec.host_kv_gb_per_server * 1e9 / p.cluster().gpus_per_server;
  const int64_t host_blocks =
      spec.host_tier() ? static_cast<int64_t>(host_bytes_per_gpu / block_bytes) : 0;
  // Capacities per KV pool: an instance's (TP/PP) or a rank's (DP attention).
  r["host_tier"] = {{"gb_per_gpu", host_bytes_per_gpu / 1e9},
                    {"capacity_blocks_per_kv_pool", host_blocks},
                    {"capacity_tokens_per_kv_pool", host_blocks * footprint.block_tokens()},
                    {"peak_used_blocks", k.host_used_blocks},
                    {"peak_utilisation", Ratio(double(k.host_used_blocks), double(host_blocks))}};

  // Payload per direction over every GPU's host link in the window.
  const double link_bytes = link.BytesPerSecond() * window_s * gpus;
  r["host_link"] = {
      {"fabric", link.name},
      {"gb_per_s_per_direction", link.gb_per_s},
      {"copy_efficiency",
       {{"to_host", link.copy_efficiency_to_host}, {"from_host", link.copy_efficiency_from_host}}},
      {"to_host_gb", k.to_host_bytes / 1e9},
      {"from_host_gb", k.from_host_bytes / 1e9},
      {"to_host_gb_per_s", Ratio(k.to_host_bytes, window_s) / 1e9},
      {"from_host_gb_per_s", Ratio(k.from_host_bytes, window_s) / 1e9},
      {"utilisation",
       {{"to_host", Ratio(k.to_host_bytes, link_bytes)},
        {"from_host", Ratio(k.from_host_bytes, link_bytes)}}},
      {"blocks",
       {{"prefix_loads", k.load_blocks},
        {"swap_ins", k.swap_in_blocks},
        {"write_backs", k.write_back_blocks},
        {"swap_outs", k.swap_out_blocks},
        {"offloads", k.offload_blocks},
        {"streamed", k.stream_blocks},
        {"ssd_loads", k.ssd_load_blocks}}}};
  const KvIoUtilisation io = KvIoUtilisationOf(p, k, window_s);

  // The servers' SSDs: payload read and written in the window against their sequential rates.
  if (spec.ssd_tier()) {
    const KvStorageSpec& ssd = *spec.ssd;
    const double ssd_bytes_per_gpu = spec.ssd_kv_gb_per_server * 1e9 / p.cluster().gpus_per_server;
    const auto ssd_blocks = static_cast<int64_t>(ssd_bytes_per_gpu / block_bytes);
    const double servers_s = window_s * Servers(p);
    const double read_util = Ratio(k.ssd_read_bytes, ssd.ReadBytesPerSecond() * servers_s);
    const double write_util = Ratio(k.ssd_write_bytes, ssd.WriteBytesPerSecond() * servers_s);
    r["ssd_tier"] = {{"drives", ssd.name},
                     {"read_gb_per_s_per_server", ssd.ReadBytesPerSecond() / 1e9},
                     {"write_gb_per_s_per_server", ssd.WriteBytesPerSecond() / 1e9},
                     {"gb_per_gpu", ssd_bytes_per_gpu / 1e9},
                     {"capacity_blocks_per_kv_pool", ssd_blocks},
                     {"capacity_tokens_per_kv_pool", ssd_blocks * footprint.block_tokens()},
                     {"peak_used_blocks", k.ssd_used_blocks},
                     {"peak_utilisation", Ratio(double(k.ssd_used_blocks), double(ssd_blocks))},
                     {"read_gb", k.ssd_read_bytes / 1e9},
                     {"write_gb", k.ssd_write_bytes / 1e9},
                     {"read_gb_per_s", Ratio(k.ssd_read_bytes, window_s) / 1e9},
                     {"write_gb_per_s", Ratio(k.ssd_write_bytes, window_s) / 1e9},
                     {"utilisation", {{"read", read_util}, {"write", write_util}}},
                     {"blocks", {{"reads", k.ssd_load_blocks}, {"writes", k.ssd_write_blocks}}}};
  }

  const double step_time = all.step_time_s;
  const double wait_share = Ratio(k.io_wait_s, step_time);
  r["io_wait_s"] = k.io_wait_s;
  r["io_wait_share_of_step_time"] = wait_share;
  r["preemptions"] = {{"swap", k.swap_preemptions},
                      {"recompute", preemptions - k.swap_preemptions}};

  std::string limit = "none", evidence;
  if (wait_share >= kIoWaitLimitShare && io.ssd > io.host_link) {
    limit = "ssd";
    evidence = absl::StrFormat(
        "steps waited %.1f%% of their time for KV I/O; the SSDs were busier (%.1f%% of their "
        "sequential rate: %.2f GB/s read, %.2f GB/s written) than the host links (%.1f%%)",
        100 * wait_share, 100 * io.ssd, Ratio(k.ssd_read_bytes, window_s) / 1e9,
        Ratio(k.ssd_write_bytes, window_s) / 1e9, 100 * io.host_link);
  } else if (wait_share >= kIoWaitLimitShare) {
    limit = "host_link";
    evidence = absl::StrFormat(
        "steps waited %.1f%% of their time for KV copies over %s (%.1f GB/s to host, %.1f GB/s "
        "from host, %d GPUs)",
        100 * wait_share, link.name, Ratio(k.to_host_bytes, window_s) / 1e9,
        Ratio(k.from_host_bytes, window_s) / 1e9, gpus);
  } else if (host_blocks > 0 && double(k.host_used_blocks) >= kHostFullShare * host_blocks &&
             (k.dropped_blocks > 0 || preemptions > k.swap_preemptions)) {
    limit = "host_tier_capacity";
    evidence = absl::StrFormat(
        "the host tier filled (%d of %d blocks per KV pool): %d cached blocks were dropped, "
        "%d preemptions recomputed",
        k.host_used_blocks, host_blocks, k.dropped_blocks, preemptions - k.swap_preemptions);
  } else {
    evidence = absl::StrFormat("steps waited %.1f%% of their time for KV copies", 100 * wait_share);
  }
  r["limit"] = {{"subsystem", limit}, {"evidence", evidence}};
  r["instances"] = instances;
  return r;
}

}  // namespace moesim
