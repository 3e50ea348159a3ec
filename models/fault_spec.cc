#include "models/fault_spec.h"

#include <nlohmann/json.hpp>

#include "models/status_macros.h"

namespace moesim {

const char* FaultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kGpu:
      return "gpu";
    case FaultKind::kServer:
      return "server";
    case FaultKind::kNic:
      return "nic";
  }
  return "?";
}

absl::StatusOr<std::vector<FaultSpec>> ParseFaults(const nlohmann::json& value,
                                                   const JsonLocation& where) {
  if (!value.is_array() || value.empty()) {
    return BadValue(where, value, "a non-empty array of faults");
  }
  std::vector<FaultSpec> faults;
  for (size_t i = 0; i < value.size(); ++i) {
    const JsonLocation at = where.Index(i);
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value[i], at));
    FaultSpec f;
    MOESIM_ASSIGN_OR_RETURN(f.at_s, r.Number("at_s", NumberRule::NonNegative()));
    if (r.Has("kind") && value[i]["kind"].is_string() &&
        (value[i]["kind"] == "link" || value[i]["kind"] == "switch")) {
      return BadValue(at.Key("kind"), value[i]["kind"],
                      "\"gpu\", \"server\" or \"nic\" (failing links and switches, with routes "
                      "recomputed around them, are not simulated yet)");
    }
    MOESIM_ASSIGN_OR_RETURN(std::string kind, r.Enum("kind", {"gpu", "server", "nic"}));
    f.kind = kind == "gpu"      ? FaultKind::kGpu
             : kind == "server" ? FaultKind::kServer
                                : FaultKind::kNic;
    MOESIM_ASSIGN_OR_RETURN(f.target, r.Integer(f.kind == FaultKind::kServer ? "server" : "gpu",
                                                NumberRule::Between(0, 1e9)));
    MOESIM_ASSIGN_OR_RETURN(f.recover_after_s,
                            r.OptionalNumber("recover_after_s", NumberRule::Positive()));
    MOESIM_RETURN_IF_ERROR(r.Finish());
    faults.push_back(f);
  }
  return faults;
}

nlohmann::json FaultsToJson(const std::vector<FaultSpec>& faults) {
  nlohmann::json j = nlohmann::json::array();
  for (const FaultSpec& f : faults) {
    nlohmann::json e = {{"at_s", f.at_s}, {"kind", FaultKindName(f.kind)}};
    e[f.kind == FaultKind::kServer ? "server" : "gpu"] = f.target;
    if (f.recover_after_s) e["recover_after_s"] = *f.recover_after_s;
    j.push_back(e);
  }
  return j;
}

}  // namespace moesim
