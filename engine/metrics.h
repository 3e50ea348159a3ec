// Collection of per-request, per-step and per-instance measurements during a simulation,
// restricted to the measurement window [warmup_s, end_s]. Pure C++ (no SimGrid): the actors
// report events, the report builder reads the totals.
//
// A step counts when it ends inside the window; a request when it finishes inside it. A step
// that began before the window contributes only its part inside the window to time-weighted
// quantities and GPU time (its tokens count whole).
// Time-weighted quantities (running / queued sequences, KV use) are weighted by step duration
// over the window; instance time not covered by steps is idle.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/kv_tier_stats.h"
#include "engine/launch_pipeline.h"
#include "engine/request.h"
#include "models/decode_step.h"

namespace moesim {

// Attention/FFN disaggregation (engine/afd_instance.h): one step's hops and sides, summed over
// steps in InstanceTotals. Zero for other kinds.
struct AfdStepStats {
  double hops = 0;            // hops run (dispatch and combine, every MoE layer and micro-batch)
  double dispatch_bytes = 0;  // payload A -> E
  double combine_bytes = 0;   // payload E -> A
  double dispatch_s = 0;      // Σ each dispatch's analytic time on an idle fabric (afd_hop_plan.h)
  double combine_s = 0;       // the same for the combines (the other link direction)
  TimeBreakdown attention;    // per attention GPU
  TimeBreakdown experts;      // per expert GPU
  void Add(const AfdStepStats& o);
};

struct StepRecord {
  double start_s = 0;
  double end_s = 0;
  int64_t tokens = 0;         // new tokens processed (decode + prefill + speculative)
  int64_t output_tokens = 0;  // tokens sampled
  // Input tokens served: the prompts whose prefill completed this step, cached tokens included,
  // a recomputation after a preemption not counted again (what serving benchmarks count).
  int64_t input_tokens = 0;
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_used_blocks = 0;
  int64_t kv_total_blocks = 0;
  // Fraction of the instance this record speaks for in time-weighted shared quantities (the KV
  // pool): 1 / pipeline stages, since that many virtual engines report overlapping steps.
  double share = 1.0;
  // Mean over MoE layers of the busiest GPU's load / the mean GPU load (sampled routing only;
  // 0 when routing is the expected uniform load).
  double moe_imbalance = 0;
  int64_t preemptions = 0;  // sequences preempted while this step was scheduled
  AfdStepStats afd;
  KvTierStats kv_tiers;  // the KV hierarchy's lookups, copies and waits (zero without one)
};

struct RequestRecord {
  double arrival_s = 0;
  double first_token_s = 0;
  double finish_s = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int preemptions = 0;
};

struct InstanceTotals {
  double step_time_s = 0;  // Σ whole step durations (for the mean step time)
  int64_t steps = 0;
  int64_t tokens = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double running_weighted = 0;  // Σ running × step duration
  double waiting_weighted = 0;
  double kv_used_weighted = 0;  // Σ used / total × duration
  double kv_peak = 0;
  int64_t max_running = 0;
  double moe_imbalance_sum = 0;  // Σ over steps of StepRecord::moe_imbalance
  double moe_imbalance_max = 0;

  TimeBreakdown breakdown;  // per GPU of the instance
  AfdStepStats afd;         // attention/FFN disaggregation: the window's steps (else zero)
  KvTierStats kv_tiers;     // KV hierarchy: the window's steps (else zero)
};

class MetricsCollector {
 public:
  MetricsCollector(int instances, double warmup_s, double end_s);

  void OnStep(int instance, const StepRecord& step, const TimeBreakdown& step_breakdown);
  void OnRequestFinished(const Request& r);

  double window_s() const { return end_s_ - warmup_s_; }
  const std::vector<InstanceTotals>& instances() const { return instances_; }
  const std::vector<RequestRecord>& requests() const { return requests_; }
  // Preemptions counted when they happen (in steps that end inside the window), whether or not
  // the preempted requests finish there.
  int64_t preemptions() const { return preemptions_; }

 private:
  double warmup_s_;
  double end_s_;
  std::vector<InstanceTotals> instances_;
  std::vector<RequestRecord> requests_;
  int64_t preemptions_ = 0;
};

}  // namespace moesim
