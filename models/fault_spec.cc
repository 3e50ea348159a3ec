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
    case FaultKind::kLink:
    case FaultKind::kScaleUpLink:
      return "link";
    case FaultKind::kLeafSwitch:
    case FaultKind::kSpineSwitch:
      return "switch";
  }
  return "?";
}

const char* FaultTargetKey(FaultKind k) {
  switch (k) {
    case FaultKind::kServer:
      return "server";
    case FaultKind::kLink:
      return "rack";
    case FaultKind::kLeafSwitch:
      return "leaf";
    case FaultKind::kSpineSwitch:
      return "spine";
    default:
      return "gpu";
  }
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
    MOESIM_ASSIGN_OR_RETURN(std::string kind,
                            r.Enum("kind", {"gpu", "server", "nic", "link", "switch"}));
    const NumberRule index = NumberRule::Between(0, 1e9);
    if (kind == "link" || kind == "switch") {
      // Each names its target by one of two keys.
      const bool link = kind == "link";
      const FaultKind first = link ? FaultKind::kLink : FaultKind::kLeafSwitch;
      const FaultKind second = link ? FaultKind::kScaleUpLink : FaultKind::kSpineSwitch;
      if (r.Has(FaultTargetKey(first)) == r.Has(FaultTargetKey(second))) {
        return BadInput(at, link ? "a \"link\" fault names one link: \"rack\" (ports of a "
                                   "rack's uplink to the spine) or \"gpu\" (ports of a GPU's "
                                   "scale-up links), one of them"
                                 : "a \"switch\" fault names one switch: \"leaf\" (a rack's "
                                   "leaf) or \"spine\" (a spine switch), one of them");
      }
      f.kind = r.Has(FaultTargetKey(second)) ? second : first;
      MOESIM_ASSIGN_OR_RETURN(f.target, r.Integer(FaultTargetKey(f.kind), index));
      if (link) {
        MOESIM_ASSIGN_OR_RETURN(f.ports, r.IntegerOr("ports", 1, NumberRule::Between(1, 1e6)));
      }
    } else {
      f.kind = kind == "gpu"      ? FaultKind::kGpu
               : kind == "server" ? FaultKind::kServer
                                  : FaultKind::kNic;
      MOESIM_ASSIGN_OR_RETURN(f.target,
                              r.Integer(f.kind == FaultKind::kServer ? "server" : "gpu", index));
      MOESIM_ASSIGN_OR_RETURN(std::string policy,
                              r.EnumOr("ep_group", "stop", {"stop", "continue"}));
      f.ep_group_continue = policy == "continue";
    }
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
    e[FaultTargetKey(f.kind)] = f.target;
    if (f.kind == FaultKind::kLink || f.kind == FaultKind::kScaleUpLink) e["ports"] = f.ports;
    if (f.ep_group_continue) e["ep_group"] = "continue";
    if (f.recover_after_s) e["recover_after_s"] = *f.recover_after_s;
    j.push_back(e);
  }
  return j;
}

}  // namespace moesim
