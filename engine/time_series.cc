#include "engine/time_series.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "topology/cluster_graph.h"

namespace moesim {

namespace {

nlohmann::json Median(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

TimeSeriesObserver::TimeSeriesObserver(double duration_s, double interval_s, int instances)
    : duration_s_(duration_s),
      interval_s_(interval_s),
      instances_(std::max(1, instances)),
      buckets_(static_cast<size_t>(std::max(1.0, std::ceil(duration_s / interval_s)))) {}

int TimeSeriesObserver::BucketOf(double t) const {
  const int b = static_cast<int>(std::floor(t / interval_s_));
  return std::clamp(b, 0, static_cast<int>(buckets_.size()) - 1);
}

void TimeSeriesObserver::OnStep(int, const StepRecord& s, const TimeBreakdown& gpu_time) {
  if (s.end_s <= duration_s_) {
    Bucket& end = buckets_[BucketOf(s.end_s)];
    end.output_tokens += s.output_tokens;
    for (size_t t = 0; t < end.tier_bytes.size(); ++t) end.tier_bytes[t] += gpu_time.tier_bytes[t];
  }
  const double kv = s.kv_total_blocks > 0 ? double(s.kv_used_blocks) / s.kv_total_blocks : 0.0;
  for (int b = BucketOf(s.start_s); b <= BucketOf(s.end_s); ++b) {
    const double lo = std::max(s.start_s, b * interval_s_);
    const double hi = std::min(s.end_s, (b + 1) * interval_s_);
    if (hi <= lo) continue;
    Bucket& k = buckets_[b];
    // Virtual engines of a pipeline report overlapping steps for one instance: `share` splits
    // the instance's running / queued / KV between them.
    k.running += double(s.running) * (hi - lo);
    k.queued += double(s.waiting) * (hi - lo);
    k.kv += kv * s.share * (hi - lo);
  }
}

void TimeSeriesObserver::OnRequestFinished(const Request& r) {
  if (!r.finish_s || *r.finish_s > duration_s_) return;
  Bucket& b = buckets_[BucketOf(*r.finish_s)];
  const double first = r.first_token_s.value_or(*r.finish_s);
  b.ttft.push_back(first - r.arrival_s);
  if (r.output_tokens > 1) b.tpot.push_back((*r.finish_s - first) / double(r.output_tokens - 1));
}

nlohmann::json TimeSeriesObserver::ToJson() const {
  nlohmann::json t = nlohmann::json::array(), out = nlohmann::json::array(),
                 running = nlohmann::json::array(), queued = nlohmann::json::array(),
                 kv = nlohmann::json::array(), finished = nlohmann::json::array(),
                 ttft = nlohmann::json::array(), tpot = nlohmann::json::array();
  std::array<nlohmann::json, 4> tiers;
  for (auto& x : tiers) x = nlohmann::json::array();
  for (size_t i = 0; i < buckets_.size(); ++i) {
    const Bucket& b = buckets_[i];
    const double start = double(i) * interval_s_;
    const double span = std::min(interval_s_, duration_s_ - start);
    t.push_back(start);
    out.push_back(span > 0 ? double(b.output_tokens) / span : 0.0);
    running.push_back(span > 0 ? b.running / span : 0.0);
    queued.push_back(span > 0 ? b.queued / span : 0.0);
    kv.push_back(span > 0 ? b.kv / span / instances_ : 0.0);
    finished.push_back(b.ttft.size());
    ttft.push_back(Median(b.ttft));
    tpot.push_back(Median(b.tpot));
    for (size_t k = 0; k < tiers.size(); ++k) {
      tiers[k].push_back(span > 0 ? b.tier_bytes[k] / span / 1e9 : 0.0);
    }
  }
  nlohmann::json tier_json = nlohmann::json::object();
  for (size_t k = 0; k < tiers.size(); ++k) {
    tier_json[LinkTierName(static_cast<LinkTier>(k))] = tiers[k];
  }
  return {{"interval_s", interval_s_}, {"t_s", t},           {"output_tok_per_s", out},
          {"running", running},        {"queued", queued},   {"kv_utilisation", kv},
          {"finished", finished},      {"ttft_p50_s", ttft}, {"tpot_p50_s", tpot},
          {"tier_gb_per_s", tier_json}};
}

}  // namespace moesim
