// Output formats of a sweep (engine/sweep.h SweepToJson): a text summary for the terminal and a
// CSV table with one row per plan. Both read the sweep's JSON, so `moesim sweep` and the MPI
// front end (tools/moesim_mpi_sweep.cc) write the same bytes for the same sweep.
//
// CSV columns, in order: index, one per axis key, state, gpus, output_tok_per_s_per_gpu,
// tok_per_s_per_user, ttft_p50_s, ttft_p90_s, tpot_p50_ms, tpot_p90_ms,
// usd_per_million_output_tokens, limit, one meets_<slo> per SLO, on_frontier,
// screen_output_tok_per_s_per_gpu, screen_tok_per_s_per_user, screen_shortfall_pct,
// screen_error_pct, reason. Empty cells: not measured (plan not simulated, or no request
// finished). An RLVR sweep ("kind": "rlvr"): index, one per axis key, state, gpus, step_time_s,
// rollout_s, rollout_slowest_10pct_s, training_s, weight_sync_s, switch_s, usd_per_step,
// gpu_hours_per_step, steps_per_day, response_tokens_per_step, rollout_usd_per_million_tokens,
// limit, one meets_<slo> per SLO, on_frontier, reason.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace moesim {

std::string SweepJsonToText(const nlohmann::json& sweep);
std::string SweepJsonToCsv(const nlohmann::json& sweep);

}  // namespace moesim
