#include "topology/cluster_spec.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

namespace {

absl::StatusOr<FabricSpec> ResolveFabric(const nlohmann::json& spec, const JsonLocation& where,
                                         const PresetLibrary& presets) {
  MOESIM_ASSIGN_OR_RETURN(PresetLibrary::Resolved r,
                          presets.Resolve(PresetKind::kFabric, spec, where));
  return ParseFabricSpec(*r.value, where, r.name);
}

}  // namespace

absl::StatusOr<ClusterSpec> ParseClusterSpec(JsonObjectReader& r, const GpuSpec& gpu,
                                             const PresetLibrary& presets) {
  ClusterSpec c;
  const JsonLocation where = r.where();
  MOESIM_ASSIGN_OR_RETURN(int64_t gps, r.Integer("gpus_per_server", NumberRule::Between(1, 1024)));
  c.gpus_per_server = static_cast<int>(gps);
  MOESIM_ASSIGN_OR_RETURN(int64_t spr,
                          r.IntegerOr("servers_per_rack", 1, NumberRule::Between(1, 4096)));
  c.servers_per_rack = static_cast<int>(spr);
  MOESIM_ASSIGN_OR_RETURN(int64_t racks, r.IntegerOr("racks", 1, NumberRule::Between(1, 4096)));
  c.racks = static_cast<int>(racks);
  if (double(c.total_gpus()) > 1e6) {
    return BadValue(where.Key("racks"), racks, "a cluster of at most 1,000,000 GPUs");
  }

  // Scale-up domain: the GPU preset's scaleup_scope (a whole rack for NVL72 systems, the
  // server's board otherwise).
  const std::string default_domain =
      gpu.scaleup_spans_rack ? std::string("rack") : std::string("server");

  MOESIM_ASSIGN_OR_RETURN(std::string domain,
                          r.EnumOr("scaleup_domain", default_domain, {"server", "rack"}));
  c.scaleup_domain = domain == "rack" ? ScaleUpDomain::kRack : ScaleUpDomain::kServer;
  if (c.scaleup_domain_gpus() > gpu.scaleup_domain_gpus) {
    const std::string key = r.Has("scaleup_domain") ? "scaleup_domain" : "gpus_per_server";
    const nlohmann::json got =
        key == "scaleup_domain" ? nlohmann::json(domain) : nlohmann::json(c.gpus_per_server);
    return BadValue(
        where.Key(key), got,
        absl::StrCat("a scale-up domain of at most ", gpu.scaleup_domain_gpus, " GPUs for ",
                     gpu.name, " (this one has ", c.scaleup_domain_gpus(), ")"));
  }

  MOESIM_ASSIGN_OR_RETURN(int64_t nics, r.IntegerOr("nics_per_server", c.gpus_per_server,
                                                    NumberRule::Between(1, 1024)));
  c.nics_per_server = static_cast<int>(nics);
  if (c.gpus_per_server % c.nics_per_server != 0) {
    return BadValue(where.Key("nics_per_server"), nics,
                    absl::StrCat("a divisor of gpus_per_server (", c.gpus_per_server,
                                 "): GPUs share NICs evenly"));
  }
  MOESIM_ASSIGN_OR_RETURN(c.leaf_oversubscription,
                          r.NumberOr("leaf_oversubscription", 1.0, NumberRule::Between(1, 1e3)));
  MOESIM_ASSIGN_OR_RETURN(int64_t spines,
                          r.IntegerOr("spine_switches", 1, NumberRule::Between(1, 1024)));
  c.spine_switches = static_cast<int>(spines);
  if (c.uplink_ports_per_spine() < 1 - 1e-9) {
    return BadValue(where.Key("spine_switches"), spines,
                    absl::StrCat("at most the ", c.uplink_ports(),
                                 " uplink ports of a rack (NICs per rack / "
                                 "leaf_oversubscription): every spine takes one port or more"));
  }

  nlohmann::json fabrics = nlohmann::json::object();
  JsonLocation fabrics_where = where.Key("fabrics");
  if (r.Has("fabrics")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* f, r.Value("fabrics"));
    fabrics = *f;
  }
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader fr, JsonObjectReader::Open(fabrics, fabrics_where));
  auto fabric = [&](const std::string& key,
                    const std::string& fallback) -> absl::StatusOr<FabricSpec> {
    if (fr.Has(key)) {
      MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* v, fr.Value(key));
      return ResolveFabric(*v, fabrics_where.Key(key), presets);
    }
    return ResolveFabric(
        nlohmann::json(fallback),
        JsonLocation{where.file, absl::StrCat(where.path, ".gpu (default ", key, " fabric)")},
        presets);
  };
  MOESIM_ASSIGN_OR_RETURN(c.scaleup, fabric("scaleup", gpu.scaleup_fabric));
  MOESIM_ASSIGN_OR_RETURN(c.scaleout, fabric("scaleout", gpu.scaleout_fabric));
  MOESIM_ASSIGN_OR_RETURN(c.interrack, fabric("interrack", c.scaleout.name));
  MOESIM_ASSIGN_OR_RETURN(c.host, fabric("host", gpu.host_fabric));
  MOESIM_RETURN_IF_ERROR(fr.Finish());
  return c;
}

nlohmann::json ClusterSpecToJson(const ClusterSpec& c) {
  auto fabric = [](const FabricSpec& f) {
    nlohmann::json j = FabricSpecToJson(f);
    j["preset_resolved"] = f.name;
    return j;
  };
  nlohmann::json j = {
      {"gpus_per_server", c.gpus_per_server},
      {"servers_per_rack", c.servers_per_rack},
      {"racks", c.racks},
      {"scaleup_domain", c.scaleup_domain == ScaleUpDomain::kRack ? "rack" : "server"},
      {"nics_per_server", c.nics_per_server},
      {"leaf_oversubscription", c.leaf_oversubscription},
      {"fabrics",
       {{"scaleup", fabric(c.scaleup)},
        {"scaleout", fabric(c.scaleout)},
        {"interrack", fabric(c.interrack)},
        {"host", fabric(c.host)}}}};
  if (c.spine_switches != 1) j["spine_switches"] = c.spine_switches;
  return j;
}

}  // namespace moesim
