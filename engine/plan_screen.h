// The analytic screen of a plan (no SimGrid): a steady-state estimate of the throughput and
// latency a scenario's plan sustains, for `moesim sweep` to rank thousands of plans before it
// simulates the promising ones. It is a labelled shortcut, not a prediction: the sweep reports
// the screen's error against the simulation on every plan it simulates.
//
// Per pool it builds instance 0 on an idle, analytic fabric (the same step graph and runner as
// the simulation, engine/step_runner.h Estimate) and takes
//  * the running batch: the offered load (closed loop: the clients over the entry instances;
//    Poisson: the smallest batch whose throughput meets the arrival rate × output length),
//    capped by max_num_seqs and by the KV blocks of sequences at the mean context
//    (prompt + half the output);
//  * the decode round at that batch (pp micro-batches, DP-attention ranks each with their own
//    sequences) and the tokens a sequence advances per step (speculative: the expected
//    acceptance length);
//  * prefill as a step of one max_num_batched_tokens chunk of prompt tokens at half the mean
//    prompt's context (the decode graph with one token per row: GEMM and MoE costs exact,
//    attention approximate), charged per prompt token; in a DP-attention group a step's prompts
//    are spread over as many ranks as there are prompts, and under prefill-first batching the
//    other ranks decode in that step (costed together, less the decode they advance);
//  * colocated pools share each instance's time between prefill and decode; disaggregated plans
//    are limited by the slower of the prefill pools' request rate and the decode pools' tokens.
// TTFT is the prefill of one mean prompt plus, when clients outnumber the batch cap, the queue
// wait by Little's law; KV transfers and contention between instances are not in the screen.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/scenario.h"

namespace moesim {

struct PoolScreen {
  std::string name;
  int gpus = 0;
  int64_t running_per_instance = 0;  // decoding sequences (serve/decode pools)
  double round_s = 0;                // one decode round of every micro-batch at that batch
  double prefill_s_per_token = 0;    // per instance, prompt tokens (serve/prefill pools)
  double output_tok_per_s = 0;       // the pool's instances together
  std::string batch_limit;           // "max_num_seqs", "kv_capacity" or "load"
};

struct PlanScreen {
  int gpus = 0;
  double output_tok_per_s = 0;
  double output_tok_per_s_per_gpu = 0;
  double tok_per_s_per_user = 0;  // 1 / TPOT
  double tpot_s = 0;
  double ttft_s = 0;  // +inf when overloaded
  double usd_per_million_output_tokens = 0;
  bool overloaded = false;  // Poisson arrivals faster than the plan completes them
  std::string limit;        // what caps the plan (a pool's batch limit, "prefill", "overloaded")
  std::vector<PoolScreen> pools;
};

absl::StatusOr<PlanScreen> ScreenPlan(const Scenario& s);

}  // namespace moesim
