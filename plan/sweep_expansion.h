// The plans of a sweep: the base scenario document with one point of every axis applied
// (plan/sweep_spec.h). No SimGrid, nothing parsed: engine/sweep.h parses and runs each plan.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "plan/sweep_spec.h"

namespace moesim {

// Column names of the axes' keys, in axis order ("deployment.tensor_parallel").
std::vector<std::string> SweepColumns(const SweepSpec& spec);

// The values plan `index` (0 <= index < spec.PlanCount()) sets, one per column. The last axis
// varies fastest.
std::vector<nlohmann::json> SweepPointValues(const SweepSpec& spec, size_t index);

// `base` (a scenario document without its "sweep" section) with plan `index`'s values set and
// its name suffixed with "#index". Fails, naming the key, when a value cannot be placed (a path
// through a value that is not an object, or an array index past the end).
absl::StatusOr<nlohmann::json> SweepPlanDocument(const nlohmann::json& base, const SweepSpec& spec,
                                                 size_t index);

}  // namespace moesim
