#include "engine/metrics.h"

#include <algorithm>

#include "models/invariant.h"

namespace moesim {

MetricsCollector::MetricsCollector(int instances, double warmup_s, double end_s)
    : warmup_s_(warmup_s), end_s_(end_s), instances_(instances) {}

void AfdStepStats::Add(const AfdStepStats& o) {
  hops += o.hops;
  dispatch_bytes += o.dispatch_bytes;
  combine_bytes += o.combine_bytes;
  dispatch_s += o.dispatch_s;
  combine_s += o.combine_s;
  attention.Add(o.attention);
  experts.Add(o.experts);
}

void MetricsCollector::OnStep(int instance, const StepRecord& s, const TimeBreakdown& b) {
  MOESIM_CHECK(s.end_s >= s.start_s && s.tokens >= 0 && s.output_tokens >= 0 &&
                   s.input_tokens >= 0 && s.kv_used_blocks >= 0 &&
                   s.kv_used_blocks <= s.kv_total_blocks,
               "instance ", instance, "'s step [", s.start_s, ", ", s.end_s, "] s: ", s.tokens,
               " tokens, ", s.output_tokens, " sampled, ", s.kv_used_blocks, " of ",
               s.kv_total_blocks, " KV blocks in use");
  if (s.end_s < warmup_s_ || s.end_s > end_s_) return;
  InstanceTotals& t = instances_[instance];
  t.step_time_s += s.end_s - s.start_s;
  ++t.steps;
  // Time-weighted quantities and GPU time count only the part of the step inside the window (a
  // long first step, e.g. a big prefill, may start before the warm-up ends).
  const double d = s.end_s - std::max(s.start_s, warmup_s_);
  const double inside = s.end_s > s.start_s ? d / (s.end_s - s.start_s) : 1.0;
  t.tokens += s.tokens;
  t.input_tokens += s.input_tokens;
  t.output_tokens += s.output_tokens;
  t.running_weighted += double(s.running) * d;
  t.waiting_weighted += double(s.waiting) * d;
  const double kv = s.kv_total_blocks > 0 ? double(s.kv_used_blocks) / s.kv_total_blocks : 0.0;
  t.kv_used_weighted += kv * d * s.share;
  t.kv_peak = std::max(t.kv_peak, kv);
  t.max_running = std::max(t.max_running, s.running);
  t.moe_imbalance_sum += s.moe_imbalance;
  t.moe_imbalance_max = std::max(t.moe_imbalance_max, s.moe_imbalance);
  preemptions_ += s.preemptions;

  TimeBreakdown clipped = b;
  if (inside < 1.0) {
    clipped.Scale(inside);
    for (double& x : clipped.tier_bytes) x *= inside;
  }
  t.breakdown.Add(clipped);
  if (s.afd.hops > 0) t.afd.Add(s.afd);
  t.kv_tiers.Add(s.kv_tiers);
}

void MetricsCollector::OnRequestFinished(const Request& r) {
  if (!r.finish_s || *r.finish_s < warmup_s_ || *r.finish_s > end_s_) return;
  RequestRecord rec;
  rec.arrival_s = r.arrival_s;
  rec.first_token_s = r.first_token_s.value_or(*r.finish_s);
  rec.finish_s = *r.finish_s;
  rec.input_tokens = r.input_tokens;
  rec.output_tokens = r.output_tokens;
  rec.preemptions = r.preemptions;
  requests_.push_back(rec);
}

}  // namespace moesim
