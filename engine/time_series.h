// Time series of a run (issue 18): per fixed interval of simulated time over [0, duration], the
// output tokens per second, running and queued sequences, KV-cache use, the requests that
// finished and their TTFT / TPOT medians, and the fabric load per tier — so warm-up,
// saturation and drift can be seen, not only the window's aggregates. (Fabric load: the bytes of
// the instances' collectives and sends; prefill -> decode KV transfers are in the report's
// disaggregation section.) An observer of every
// instance's steps and finished requests (engine/instance.h); pure C++, no SimGrid.
//
// A step's tokens and fabric bytes count in the interval where the step ends (not at all when
// it ends after the run's end, like a request that finishes then, as the report counts them);
// running, queued
// and KV use are weighted by the part of each step inside each interval, and summed over the
// instances (KV use: averaged over them). Intervals with no finished request have null latencies.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/instance.h"

namespace moesim {

class TimeSeriesObserver : public StepObserver {
 public:
  // `instances`: the run's instances over all pools (for averaging KV use).
  TimeSeriesObserver(double duration_s, double interval_s, int instances);

  void OnStep(int instance, const StepRecord& step, const TimeBreakdown& gpu_time) override;
  void OnRequestFinished(const Request& request) override;

  // {"interval_s", "t_s" (interval starts), "output_tok_per_s", "running", "queued",
  //  "kv_utilisation", "finished", "ttft_p50_s", "tpot_p50_s", "tier_gb_per_s": {tier: [...]}}
  nlohmann::json ToJson() const;

 private:
  struct Bucket {
    int64_t output_tokens = 0;
    double running = 0, queued = 0, kv = 0;  // × seconds
    std::vector<double> ttft, tpot;
    std::array<double, 4> tier_bytes{};
  };
  int BucketOf(double t) const;

  double duration_s_;
  double interval_s_;
  int instances_;
  std::vector<Bucket> buckets_;
};

}  // namespace moesim
