#include "engine/handoff_metrics.h"

#include <algorithm>

namespace moesim {

HandoffMetrics::HandoffMetrics(double warmup_s, double end_s)
    : warmup_s_(warmup_s), end_s_(end_s) {}

void HandoffMetrics::OnTransfer(const Request& r, double seconds, double bytes,
                                const std::array<double, kLinkTierCount>& tier_bytes,
                                int bottleneck_tier) {
  const double end = r.handoff.transfer_end_s.value_or(0);
  if (end < warmup_s_ || end > end_s_) return;
  transfer_s_.push_back(seconds);
  transfer_bytes_ += bytes;
  for (int t = 0; t < kLinkTierCount; ++t) tier_bytes_[t] += tier_bytes[t];
  if (bottleneck_tier >= 0) tier_seconds_[bottleneck_tier] += seconds;
}

void HandoffMetrics::OnWaiting(double now_s, int64_t waiting) {
  const double from = std::max(waiting_since_s_, warmup_s_);
  const double to = std::min(now_s, end_s_);
  if (to > from) waiting_weighted_ += double(waiting_) * (to - from);
  if (now_s >= warmup_s_ && now_s <= end_s_) max_waiting_ = std::max(max_waiting_, waiting);
  waiting_since_s_ = now_s;
  waiting_ = waiting;
}

void HandoffMetrics::Finish() { OnWaiting(end_s_, waiting_); }

double HandoffMetrics::mean_waiting() const {
  return end_s_ > warmup_s_ ? waiting_weighted_ / (end_s_ - warmup_s_) : 0.0;
}

void HandoffMetrics::OnRequestFinished(const Request& r) {
  if (!r.finish_s || *r.finish_s < warmup_s_ || *r.finish_s > end_s_) return;
  const Request::Handoff& h = r.handoff;
  // Requests whose only token came from the prefill never moved; a request that a fault sent
  // back to prefill saw its first token on an earlier trip (its stages would not add up).
  if (r.fault_retries > 0) return;
  if (!h.prefill_start_s || !h.prefill_end_s || !h.transfer_start_s || !h.transfer_end_s) return;
  TtftStages s;
  s.prefill_queue = *h.prefill_start_s - r.arrival_s;
  s.prefill = *h.prefill_end_s - *h.prefill_start_s;
  // A layer-wise transfer starts before the prompt completes: only what is left after it counts
  // (the stages then still add up to the time to first token).
  const double exposed_start = std::max(*h.transfer_start_s, *h.prefill_end_s);
  s.decode_reservation = exposed_start - *h.prefill_end_s;
  s.kv_transfer = *h.transfer_end_s - exposed_start;
  s.decode_admission = r.first_token_s.value_or(*h.transfer_end_s) - *h.transfer_end_s;
  if (s.decode_reservation > 0) ++waited_;
  stages_.push_back(s);
}

}  // namespace moesim
