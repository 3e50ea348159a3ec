#include "plan/sweep_spec.h"

#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

namespace {

// More plans than this is a typo in a range, not a search one machine (or a cluster) can run.
constexpr double kMaxPlans = 1e6;
// Points one range may produce.
constexpr int kMaxRangePoints = 10000;

absl::StatusOr<std::vector<nlohmann::json>> ExpandRange(JsonObjectReader r) {
  MOESIM_ASSIGN_OR_RETURN(double from, r.Number("from", NumberRule{}));
  MOESIM_ASSIGN_OR_RETURN(double to, r.Number("to", NumberRule{}));
  if (to < from)
    return BadValue(r.where().Key("to"), to, absl::StrCat("a number >= from (", from, ")"));
  const bool has_step = r.Has("step"), has_factor = r.Has("factor");
  if (has_step == has_factor) {
    return BadInput(r.where(),
                    "a range needs exactly one of \"step\" (arithmetic) or \"factor\" "
                    "(geometric)");
  }
  const bool integers = std::floor(from) == from;
  std::vector<nlohmann::json> points;
  auto push = [&](double x) -> absl::Status {
    if (static_cast<int>(points.size()) >= kMaxRangePoints) {
      return BadInput(r.where(),
                      absl::StrCat("the range gives more than ", kMaxRangePoints, " points"));
    }
    if (integers && std::floor(x) == x && std::fabs(x) < 9e15) {
      points.push_back(static_cast<int64_t>(x));
    } else {
      points.push_back(x);
    }
    return absl::OkStatus();
  };
  // A relative slack so that 0.1-steps reach `to` despite rounding.
  const double slack = 1e-9 * std::max(1.0, std::fabs(to));
  if (has_step) {
    MOESIM_ASSIGN_OR_RETURN(double step, r.Number("step", NumberRule::Positive()));
    for (int i = 0;; ++i) {
      const double x = from + i * step;
      if (x > to + slack) break;
      MOESIM_RETURN_IF_ERROR(push(x));
    }
  } else {
    if (from <= 0) return BadValue(r.where().Key("from"), from, "a number > 0 (geometric range)");
    MOESIM_ASSIGN_OR_RETURN(double factor, r.Number("factor", NumberRule{1.0, true}));
    for (double x = from; x <= to * (1 + 1e-12); x *= factor) MOESIM_RETURN_IF_ERROR(push(x));
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return points;
}

absl::StatusOr<SweepAxis> ParseAxis(const nlohmann::json& value, const JsonLocation& where) {
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  SweepAxis axis;
  if (r.Has("path") == r.Has("paths")) {
    return BadInput(where,
                    "an axis needs exactly one of \"path\" (one key) or \"paths\" (keys "
                    "that vary together)");
  }
  if (r.Has("path")) {
    MOESIM_ASSIGN_OR_RETURN(std::string p, r.String("path"));
    axis.paths.push_back(p);
  } else {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* ps, r.Array("paths"));
    if (ps->empty()) return BadValue(where.Key("paths"), *ps, "a non-empty array of key paths");
    for (size_t i = 0; i < ps->size(); ++i) {
      if (!(*ps)[i].is_string()) {
        return BadValue(where.Key("paths").Index(i), (*ps)[i], "a key path such as \"$.a.b\"");
      }
      axis.paths.push_back((*ps)[i].get<std::string>());
    }
  }
  for (size_t i = 0; i < axis.paths.size(); ++i) {
    const JsonLocation at = r.Has("path") ? where.Key("path") : where.Key("paths").Index(i);
    MOESIM_RETURN_IF_ERROR(ParseSweepPath(axis.paths[i], at).status());
    for (size_t j = 0; j < i; ++j) {
      if (axis.paths[j] == axis.paths[i])
        return BadValue(at, axis.paths[i], "a key not listed twice");
    }
  }
  if (r.Has("values") == r.Has("range")) {
    return BadInput(where, "an axis needs exactly one of \"values\" (a list) or \"range\"");
  }
  if (r.Has("range")) {
    if (axis.paths.size() != 1) {
      return BadInput(where.Key("range"), "a range sets one key: use \"path\", not \"paths\"");
    }
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader range, r.Object("range"));
    MOESIM_ASSIGN_OR_RETURN(std::vector<nlohmann::json> points, ExpandRange(std::move(range)));
    for (auto& p : points) axis.values.push_back({std::move(p)});
  } else {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* vs, r.Array("values"));
    if (vs->empty()) return BadValue(where.Key("values"), *vs, "a non-empty array of values");
    for (size_t i = 0; i < vs->size(); ++i) {
      const nlohmann::json& v = (*vs)[i];
      if (axis.paths.size() == 1) {
        axis.values.push_back({v});
        continue;
      }
      if (!v.is_array() || v.size() != axis.paths.size()) {
        return BadValue(
            where.Key("values").Index(i), v,
            absl::StrCat("an array of ", axis.paths.size(), " values, one per key of \"paths\""));
      }
      axis.values.push_back(std::vector<nlohmann::json>(v.begin(), v.end()));
    }
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return axis;
}

absl::StatusOr<SweepSlo> ParseSlo(const nlohmann::json& value, const JsonLocation& where,
                                  size_t index, bool rlvr) {
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  SweepSlo slo;
  MOESIM_ASSIGN_OR_RETURN(slo.name, r.StringOr("name", absl::StrCat("slo", index + 1)));
  // Each kind of sweep's bounds; the other kind's are named in the error.
  const std::vector<const char*> serving = {"ttft_p90_s", "tpot_p90_ms", "min_tok_per_s_per_user"};
  const std::vector<const char*> step = {"step_time_s", "usd_per_step"};
  for (const char* key : rlvr ? serving : step) {
    if (!r.Has(key)) continue;
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* v, r.Value(key));
    return BadValue(where.Key(key), *v,
                    rlvr ? "no serving bound in an RLVR sweep (its SLOs bound the mean step: "
                           "step_time_s, usd_per_step)"
                         : "no RLVR bound in a serving sweep (a scenario with an \"rlvr\" "
                           "section makes an RLVR sweep)");
  }
  if (rlvr) {
    MOESIM_ASSIGN_OR_RETURN(slo.step_time_s,
                            r.OptionalNumber("step_time_s", NumberRule::Positive()));
    MOESIM_ASSIGN_OR_RETURN(slo.usd_per_step,
                            r.OptionalNumber("usd_per_step", NumberRule::Positive()));
    if (!slo.step_time_s && !slo.usd_per_step) {
      return BadInput(where, "an RLVR SLO needs at least one of step_time_s, usd_per_step");
    }
  } else {
    MOESIM_ASSIGN_OR_RETURN(slo.ttft_p90_s, r.OptionalNumber("ttft_p90_s", NumberRule::Positive()));
    MOESIM_ASSIGN_OR_RETURN(slo.tpot_p90_ms,
                            r.OptionalNumber("tpot_p90_ms", NumberRule::Positive()));
    MOESIM_ASSIGN_OR_RETURN(slo.min_tok_per_s_per_user,
                            r.OptionalNumber("min_tok_per_s_per_user", NumberRule::Positive()));
    if (!slo.ttft_p90_s && !slo.tpot_p90_ms && !slo.min_tok_per_s_per_user) {
      return BadInput(where,
                      "an SLO needs at least one of ttft_p90_s, tpot_p90_ms, "
                      "min_tok_per_s_per_user");
    }
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return slo;
}

}  // namespace

const char* SweepObjectiveName(SweepObjective o) {
  switch (o) {
    case SweepObjective::kOutputTokPerSPerGpu:
      return "output_tok_per_s_per_gpu";
    case SweepObjective::kUsdPerMillionOutputTokens:
      return "usd_per_million_output_tokens";
    case SweepObjective::kRlvrStepTime:
      return "rlvr_step_time_s";
    case SweepObjective::kRlvrUsdPerStep:
      return "rlvr_usd_per_step";
  }
  return "";
}

size_t SweepSpec::PlanCount() const {
  size_t n = 1;
  for (const SweepAxis& a : axes) n *= a.values.size();
  return n;
}

absl::StatusOr<std::vector<SweepPathStep>> ParseSweepPath(const std::string& path,
                                                          const JsonLocation& where) {
  const auto bad = [&] {
    return BadValue(where, path,
                    "a key path such as \"$.deployment.tensor_parallel\" or "
                    "\"$.deployment.pools[0].instances\"");
  };
  if (path.size() < 3 || path.compare(0, 2, "$.") != 0) return bad();
  std::vector<SweepPathStep> steps;
  size_t i = 2;
  while (i < path.size()) {
    size_t end = path.find_first_of(".[", i);
    if (end == std::string::npos) end = path.size();
    if (end == i) return bad();
    const std::string key = path.substr(i, end - i);
    if (key.find_first_of("/~]") != std::string::npos) return bad();
    steps.push_back({key, false});
    i = end;
    while (i < path.size() && path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string::npos || close == i + 1) return bad();
      const std::string index = path.substr(i + 1, close - i - 1);
      if (index.find_first_not_of("0123456789") != std::string::npos || index.size() > 9) {
        return bad();
      }
      steps.push_back({index, true});
      i = close + 1;
    }
    if (i < path.size()) {
      if (path[i] != '.' || i + 1 == path.size()) return bad();
      ++i;
    }
  }
  return steps;
}

absl::StatusOr<SweepSpec> ParseSweepSpec(const nlohmann::json& value, const JsonLocation& where,
                                         bool rlvr) {
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  SweepSpec spec;
  spec.rlvr = rlvr;
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* axes, r.Array("axes"));
  if (axes->empty()) return BadValue(where.Key("axes"), *axes, "a non-empty array of axes");
  double plans = 1;
  for (size_t i = 0; i < axes->size(); ++i) {
    MOESIM_ASSIGN_OR_RETURN(SweepAxis axis, ParseAxis((*axes)[i], where.Key("axes").Index(i)));
    for (const SweepAxis& earlier : spec.axes) {
      for (const std::string& p : axis.paths) {
        for (const std::string& q : earlier.paths) {
          if (p == q) {
            return BadValue(where.Key("axes").Index(i), p, "a key that no other axis sets");
          }
        }
      }
    }
    plans *= double(axis.values.size());
    spec.axes.push_back(std::move(axis));
  }
  if (plans > kMaxPlans) {
    return BadInput(where.Key("axes"), absl::StrCat("the axes expand to ", plans,
                                                    " plans; at most ", kMaxPlans, " are allowed"));
  }
  for (const char* key : {"min_gpus", "max_gpus"}) {
    if (!r.Has(key)) continue;
    MOESIM_ASSIGN_OR_RETURN(int64_t g, r.Integer(key, NumberRule::Between(1, 1e6)));
    (std::string(key) == "min_gpus" ? spec.min_gpus : spec.max_gpus) = static_cast<int>(g);
  }
  if (spec.min_gpus && spec.max_gpus && *spec.min_gpus > *spec.max_gpus) {
    return BadValue(where.Key("min_gpus"), *spec.min_gpus,
                    absl::StrCat("at most max_gpus (", *spec.max_gpus, ")"));
  }
  if (r.Has("slos")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* slos, r.Array("slos"));
    for (size_t i = 0; i < slos->size(); ++i) {
      MOESIM_ASSIGN_OR_RETURN(SweepSlo slo,
                              ParseSlo((*slos)[i], where.Key("slos").Index(i), i, rlvr));
      for (const SweepSlo& s : spec.slos) {
        if (s.name == slo.name) {
          return BadValue(where.Key("slos").Index(i).Key("name"), slo.name, "a name used once");
        }
      }
      spec.slos.push_back(std::move(slo));
    }
  }
  if (rlvr) {
    MOESIM_ASSIGN_OR_RETURN(
        std::string objective,
        r.EnumOr("objective", "rlvr_step_time_s", {"rlvr_step_time_s", "rlvr_usd_per_step"}));
    spec.objective = objective == "rlvr_step_time_s" ? SweepObjective::kRlvrStepTime
                                                     : SweepObjective::kRlvrUsdPerStep;
    // Every plan is simulated, every instance of it: the screen and the representative set
    // estimate serving plans.
    for (const char* key : {"screen", "instances"}) {
      if (!r.Has(key)) continue;
      MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* v, r.Value(key));
      return BadValue(where.Key(key), *v,
                      "absent in an RLVR sweep (every plan is simulated with every instance: "
                      "the analytic screen and the representative instances estimate serving "
                      "plans)");
    }
    spec.simulate_all = true;
    spec.representative_instances = false;
    MOESIM_RETURN_IF_ERROR(r.Finish());
    return spec;
  }
  MOESIM_ASSIGN_OR_RETURN(std::string objective,
                          r.EnumOr("objective", "output_tok_per_s_per_gpu",
                                   {"output_tok_per_s_per_gpu", "usd_per_million_output_tokens"}));
  spec.objective = objective == "output_tok_per_s_per_gpu"
                       ? SweepObjective::kOutputTokPerSPerGpu
                       : SweepObjective::kUsdPerMillionOutputTokens;
  if (r.Has("screen")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader s, r.Object("screen"));
    MOESIM_ASSIGN_OR_RETURN(
        spec.keep_within_pct,
        s.NumberOr("keep_within_pct", spec.keep_within_pct, NumberRule::Between(0, 1000)));
    MOESIM_ASSIGN_OR_RETURN(std::string sim, s.EnumOr("simulate", "frontier", {"frontier", "all"}));
    spec.simulate_all = sim == "all";
    MOESIM_RETURN_IF_ERROR(s.Finish());
  }
  MOESIM_ASSIGN_OR_RETURN(std::string instances,
                          r.EnumOr("instances", "representative", {"representative", "all"}));
  spec.representative_instances = instances == "representative";
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return spec;
}

}  // namespace moesim
