#include "models/rlvr_spec.h"

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

const char* RlvrScheduleName(RlvrSchedule s) {
  switch (s) {
    case RlvrSchedule::kSynchronous:
      return "synchronous";
    case RlvrSchedule::kOneStepOffPolicy:
      return "one_step_off_policy";
    case RlvrSchedule::kColocated:
      return "colocated";
  }
  return "";
}

absl::StatusOr<RlvrSpec> ParseRlvrSpec(const nlohmann::json& value, const JsonLocation& where) {
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  RlvrSpec s;
  MOESIM_ASSIGN_OR_RETURN(s.prompts_per_step,
                          r.Integer("prompts_per_step", NumberRule::Between(1, 1e6)));
  MOESIM_ASSIGN_OR_RETURN(s.samples_per_prompt,
                          r.Integer("samples_per_prompt", NumberRule::Between(1, 1024)));
  if (s.samples_per_step() > 4000000) {
    return BadInput(where, "prompts_per_step × samples_per_prompt is above 4,000,000 samples");
  }
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* prompt, r.Value("prompt_tokens"));
  MOESIM_ASSIGN_OR_RETURN(s.prompt_tokens,
                          ParseLengthDistribution(*prompt, where.Key("prompt_tokens")));
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* output, r.Value("output_tokens"));
  MOESIM_ASSIGN_OR_RETURN(s.output_tokens,
                          ParseLengthDistribution(*output, where.Key("output_tokens")));
  MOESIM_ASSIGN_OR_RETURN(int64_t steps, r.IntegerOr("steps", 1, NumberRule::Between(1, 1000)));
  s.steps = static_cast<int>(steps);
  MOESIM_ASSIGN_OR_RETURN(
      std::string schedule,
      r.EnumOr("schedule", "synchronous", {"synchronous", "one_step_off_policy", "colocated"}));
  s.schedule = schedule == "synchronous"           ? RlvrSchedule::kSynchronous
               : schedule == "one_step_off_policy" ? RlvrSchedule::kOneStepOffPolicy
                                                   : RlvrSchedule::kColocated;
  if (r.Has("partial_rollout_tokens")) {
    MOESIM_ASSIGN_OR_RETURN(int64_t budget,
                            r.Integer("partial_rollout_tokens", NumberRule::Between(1, 1e7)));
    s.partial_rollout_tokens = budget;
  }
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader t, r.Object("trainer"));
  if (s.schedule == RlvrSchedule::kColocated) {
    if (t.Has("gpus")) {
      return BadInput(t.where().Key("gpus"),
                      "a colocated trainer runs on the rollout's GPUs: give no \"gpus\"");
    }
  } else {
    MOESIM_ASSIGN_OR_RETURN(int64_t gpus, t.Integer("gpus", NumberRule::Between(1, 1e6)));
    s.trainer.gpus = static_cast<int>(gpus);
  }
  MOESIM_ASSIGN_OR_RETURN(s.trainer.mfu, t.Number("mfu", NumberRule::Fraction()));
  MOESIM_ASSIGN_OR_RETURN(s.trainer.mfu_source, t.String("mfu_source"));
  MOESIM_ASSIGN_OR_RETURN(s.trainer.reference_model, t.BoolOr("reference_model", false));
  MOESIM_RETURN_IF_ERROR(t.Finish());
  if (r.Has("weight_sync")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader w, r.Object("weight_sync"));
    MOESIM_ASSIGN_OR_RETURN(s.sync_dtype, w.EnumOr("dtype", "bf16", {"bf16", "fp8"}));
    s.sync_bytes_per_param = s.sync_dtype == "bf16" ? 2 : 1;
    MOESIM_ASSIGN_OR_RETURN(s.delta_fraction,
                            w.NumberOr("delta_fraction", 1.0, NumberRule::Fraction()));
    MOESIM_RETURN_IF_ERROR(w.Finish());
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return s;
}

nlohmann::json RlvrSpecToJson(const RlvrSpec& s) {
  nlohmann::json j = {
      {"prompts_per_step", s.prompts_per_step},
      {"samples_per_prompt", s.samples_per_prompt},
      {"prompt_tokens", LengthDistributionToJson(s.prompt_tokens)},
      {"output_tokens", LengthDistributionToJson(s.output_tokens)},
      {"steps", s.steps},
      {"schedule", RlvrScheduleName(s.schedule)},
      {"trainer",
       {{"gpus", s.trainer.gpus},
        {"mfu", s.trainer.mfu},
        {"mfu_source", s.trainer.mfu_source},
        {"reference_model", s.trainer.reference_model}}},
      {"weight_sync", {{"dtype", s.sync_dtype}, {"delta_fraction", s.delta_fraction}}}};
  if (s.partial_rollout_tokens) j["partial_rollout_tokens"] = *s.partial_rollout_tokens;
  return j;
}

}  // namespace moesim
