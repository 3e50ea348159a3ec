// Measurements of the hand-off between prefill and decode pools (disaggregation), restricted to
// the measurement window [warmup_s, end_s]: each finished request's time to first token split
// into its stages, the KV transfers (bytes and time per fabric tier), and the requests waiting
// for a decode instance to reserve their KV (back-pressure). Pure C++ (no SimGrid).
//
// A transfer counts when it ends inside the window, a request when it finishes inside it; the
// waiting count is weighted by time inside the window.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/request.h"
#include "topology/cluster_graph.h"

namespace moesim {

// One finished request's time to first token, by stage (seconds).
struct TtftStages {
  double prefill_queue = 0;       // arrival -> its first prefill chunk scheduled
  double prefill = 0;             // first chunk -> prompt complete
  double decode_reservation = 0;  // prompt complete -> decode blocks reserved (back-pressure)
  double kv_transfer = 0;         // reserved (or prompt complete, if later) -> KV on decode GPUs
  double decode_admission = 0;    // KV in place -> first decode step (its first token streams)
};

class HandoffMetrics {
 public:
  HandoffMetrics(double warmup_s, double end_s);

  // `r`'s KV moved: `bytes` of payload in `seconds` (from the transfer's start — for a
  // layer-wise one, the start of the prompt's last prefill step — to the KV in place),
  // `tier_bytes` per link tier crossed, the busiest link in `bottleneck_tier` (-1: none).
  void OnTransfer(const Request& r, double seconds, double bytes,
                  const std::array<double, kLinkTierCount>& tier_bytes, int bottleneck_tier);
  // The number of requests waiting for a decode reservation became `waiting` at `now_s`.
  void OnWaiting(double now_s, int64_t waiting);
  // A request finished: its TTFT stages (requests that a fault sent back to prefill left out).
  void OnRequestFinished(const Request& r);
  // Closes the waiting count's integral at the end of the window.
  void Finish();

  const std::vector<TtftStages>& stages() const { return stages_; }
  const std::vector<double>& transfer_seconds() const { return transfer_s_; }
  double transfer_bytes() const { return transfer_bytes_; }
  const std::array<double, kLinkTierCount>& tier_bytes() const { return tier_bytes_; }
  // Σ transfer seconds by the tier of each transfer's bottleneck link.
  const std::array<double, kLinkTierCount>& tier_seconds() const { return tier_seconds_; }
  double mean_waiting() const;  // time-weighted over the window
  int64_t max_waiting() const { return max_waiting_; }
  int64_t requests_that_waited() const { return waited_; }  // finished ones that waited > 0

 private:
  double warmup_s_;
  double end_s_;
  std::vector<TtftStages> stages_;
  std::vector<double> transfer_s_;
  double transfer_bytes_ = 0;
  std::array<double, kLinkTierCount> tier_bytes_{};
  std::array<double, kLinkTierCount> tier_seconds_{};
  double waiting_since_s_ = 0;
  int64_t waiting_ = 0;
  double waiting_weighted_ = 0;
  int64_t max_waiting_ = 0;
  int64_t waited_ = 0;
};

}  // namespace moesim
