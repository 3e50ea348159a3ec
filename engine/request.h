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
  int64_t kv_blocks = 0;      // blocks held
  int64_t scheduled_tokens = 0;  // tokens processed in the step being executed
  int preemptions = 0;
  std::optional<double> first_token_s;
  std::optional<double> finish_s;

  bool prefilling() const { return prefilled < prompt_tokens; }
};

}  // namespace moesim
