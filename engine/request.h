// One inference request and its progress through an instance.
#pragma once

#include <cstdint>
#include <optional>

namespace moesim {

struct Request {
  int64_t id = 0;
  int64_t client = 0;  // closed-loop client that sent it (0 for open-loop arrivals)
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;  // tokens to generate (>= 1)
  double arrival_s = 0;       // simulated time it reached the router

  // Progress, owned by the instance scheduler.
  int64_t prompt_tokens = 0;  // tokens to prefill (input, plus generated ones after a preemption)
  int64_t prefilled = 0;      // prompt tokens whose KV is computed
  int64_t generated = 0;      // output tokens sampled so far
  int64_t kv_tokens = 0;      // tokens whose KV is stored
  int64_t kv_blocks = 0;      // HBM blocks held privately (besides cached and offloaded ones)
  int64_t scheduled_tokens = 0;  // tokens processed in the step being executed
  int preemptions = 0;
  int fault_retries = 0;  // times its instance failed under it and it was re-routed
  int rank = 0;           // the lane (tp_pp) or rank (ep_group) of its instance that holds its KV

  // KV hierarchy (models/prefix_cache.h). Its block i is named BlockHash(owner, i), the owner
  // being shared_prefix_owner (the shared prefix it starts with: 0, or its group's) for blocks
  // inside its first shared_prefix_tokens tokens and prefix_owner after them (its session, or
  // itself).
  uint64_t prefix_owner = 0;
  uint64_t shared_prefix_owner = 0;
  int64_t shared_prefix_tokens = 0;
  int64_t prefix_group = -1;     // its shared prefix's group when there are several (-1: one)
  int64_t session = -1;          // multi-turn session (-1: none)
  int64_t turn = 0;              // 1-based turn within its session
  int64_t cached_blocks = 0;     // leading blocks shared through the prefix cache (referenced)
  int64_t swapped_blocks = 0;    // blocks of its KV in host DRAM while it is swapped out
  int64_t offloaded_blocks = 0;  // its oldest blocks, in host DRAM while it runs (capacity)
  std::optional<double> first_token_s;
  std::optional<double> finish_s;

  // Prefill/decode disaggregation (engine/disaggregation.h): where the request is and when it
  // passed each stage. Times are absolute simulated seconds.
  struct Handoff {
    int prefill_instance = -1;   // global index over the prefill pools' instances
    int decode_instance = -1;    // over the decode pools' instances, once reserved
    int prefill_rank = 0;        // the prefill instance's lane/rank that holds its KV
    int decode_rank = 0;         // the decode instance's lane/rank that reserved its KV
    int64_t prefill_blocks = 0;  // blocks still held on the prefill side (until transferred)
    int64_t decode_blocks = 0;   // blocks reserved on the decode side (until it joins there)
    std::optional<double> prefill_start_s;   // its first prefill chunk was scheduled
    std::optional<double> prefill_end_s;     // its prompt's KV is complete on the prefill side
    std::optional<double> transfer_start_s;  // decode blocks reserved, KV starts to move
    std::optional<double> transfer_end_s;    // KV in place on the decode GPUs
  };
  Handoff handoff;

  bool prefilling() const { return prefilled < prompt_tokens; }
  // Its KV is lost (fault injection): it starts over as after a recompute preemption, its
  // prompt being input + generated tokens to prefill again, and (disaggregation) it goes
  // through prefill, transfer and decode admission anew. Blocks must have been given back.
  void StartOver() {
    kv_tokens = 0;
    prefilled = 0;
    scheduled_tokens = 0;
    prompt_tokens = input_tokens + generated;
    handoff = Handoff{};
  }
  // Cache-aware routing's key: its session (>= 0), else its prefix group (<= -2), else -1 (none:
  // routed by load).
  int64_t CacheAffinity() const {
    if (session >= 0) return session;
    return prefix_group >= 0 ? -2 - prefix_group : -1;
  }
  // Whether its routing entry can be forgotten once it is routed (a session's last turn).
  bool LastOfAffinity(int64_t session_turns) const { return session >= 0 && turn >= session_turns; }
};

}  // namespace moesim
