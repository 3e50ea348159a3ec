// A scenario's "rlvr" section: one reinforcement-learning-with-verifiable-rewards step repeated
// (engine/rlvr_controller.h simulates it). The rollout runs on the scenario's deployment (any
// serving plan), the trainer on its own GPUs of the scenario's GPU type (or, colocated, on the
// rollout's GPUs).
//
//   "rlvr": {
//     "prompts_per_step": 512, "samples_per_prompt": 16,
//     "prompt_tokens": {"kind": "fixed", "tokens": 1000},            (models/workload.h lengths,
//     "output_tokens": {"kind": "lognormal", "median_tokens": 4000,    incl. "histogram")
//                       "sigma": 0.8, "max_tokens": 32768},
//     "steps": 3,
//     "schedule": "synchronous",          (or "one_step_off_policy", "colocated")
//     "partial_rollout_tokens": 8192,     (optional: a sample generates at most this many tokens
//                                          per step; the rest continues in the next step)
//     "trainer": {"gpus": 256, "mfu": 0.3, "mfu_source": "...", "reference_model": true},
//     "weight_sync": {"dtype": "bf16", "delta_fraction": 1.0}
//   }
//
// The trainer is costed from its model FLOP utilisation (an analytic shortcut, labelled in the
// report): forward + backward of the policy over every prompt and response token (6 × active
// parameters per token, attention included), a forward of the reference model when asked
// (2 × active parameters per token), then the optimizer step, HBM-bound over the fully sharded
// (ZeRO-3 style) parameters and optimizer states.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"
#include "models/workload.h"

namespace moesim {

enum class RlvrSchedule { kSynchronous, kOneStepOffPolicy, kColocated };
const char* RlvrScheduleName(RlvrSchedule s);

struct RlvrTrainerSpec {
  int gpus = 0;  // 0 under the colocated schedule: the rollout's GPUs
  double mfu = 0;
  std::string mfu_source;
  bool reference_model = false;
};

struct RlvrSpec {
  int64_t prompts_per_step = 0;
  int64_t samples_per_prompt = 0;
  LengthDistribution prompt_tokens;
  LengthDistribution output_tokens;
  int steps = 1;
  RlvrSchedule schedule = RlvrSchedule::kSynchronous;
  std::optional<int64_t> partial_rollout_tokens;
  RlvrTrainerSpec trainer;
  double sync_bytes_per_param = 2;  // weight_sync.dtype: bf16 2, fp8 1
  std::string sync_dtype = "bf16";
  double delta_fraction = 1;  // share of the weights a sync moves (1: full)

  int64_t samples_per_step() const { return prompts_per_step * samples_per_prompt; }
};

absl::StatusOr<RlvrSpec> ParseRlvrSpec(const nlohmann::json& value, const JsonLocation& where);
nlohmann::json RlvrSpecToJson(const RlvrSpec& spec);

}  // namespace moesim
