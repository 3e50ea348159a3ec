#include "models/kv_connector.h"

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

absl::StatusOr<KvConnectorSpec> ParseKvConnectorSpec(const nlohmann::json& value,
                                                     const JsonLocation& where,
                                                     const std::string& name) {
  KvConnectorSpec c;
  c.name = name;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(c.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(c.setup_us, r.Number("setup_us", NumberRule::Between(0, 1e7)));
  MOESIM_ASSIGN_OR_RETURN(c.link_efficiency,
                          r.Number("link_efficiency", NumberRule::PositiveAtMost(1)));
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return c;
}

nlohmann::json KvConnectorSpecToJson(const KvConnectorSpec& c) {
  return {{"description", c.description},
          {"setup_us", c.setup_us},
          {"link_efficiency", c.link_efficiency}};
}

}  // namespace moesim
