// Where one decode step's time goes, without a simulation: the kernels of one layer of each kind
// with their class, kernel count, FLOPs, bytes and time, the all-reduces as the fabric picks
// them, and the whole step's analytic estimate (engine/step_model.h). Backs `moesim step`.
#pragma once

#include <cstdint>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "engine/scenario.h"

namespace moesim {

// A steady decode step of instance 0 with `seqs` sequences holding `context_tokens` each.
absl::StatusOr<nlohmann::json> DescribeDecodeStep(const Scenario& s, int64_t seqs,
                                                  double context_tokens);

}  // namespace moesim
