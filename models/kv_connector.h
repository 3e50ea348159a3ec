// How a KV-transfer connector (Mooncake Transfer Engine, NIXL, ...) moves a prompt's KV cache
// from prefill GPUs to decode GPUs in prefill/decode disaggregation.
//
// A transfer of B bytes over links of bandwidth W takes setup_us + B / (link_efficiency · W)
// when alone: a fixed cost per transfer (registration lookups, descriptor posting, completion
// notification) and a share of the line rate for the bulk. Small transfers therefore reach a
// small share of the link (the Mooncake vLLM table: 18 % at 20 MB, 71 % at 4.5 GB). The engine
// charges the setup as a delay and moves B / link_efficiency bytes per GPU pair as SimGrid
// flows on the routed links, so the bulk shares links with all other traffic.
//
// Values come from connector presets (models/presets/kv_connectors.json) with scenario
// overrides.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

struct KvConnectorSpec {
  std::string name;
  std::string description;
  double setup_us = 0;         // fixed cost per transfer, µs
  double link_efficiency = 1;  // achieved / raw bandwidth for the bulk, in (0, 1]
};

absl::StatusOr<KvConnectorSpec> ParseKvConnectorSpec(const nlohmann::json& value,
                                                     const JsonLocation& where,
                                                     const std::string& name);
nlohmann::json KvConnectorSpecToJson(const KvConnectorSpec& connector);

}  // namespace moesim
