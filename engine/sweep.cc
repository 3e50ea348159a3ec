#include "engine/sweep.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/representative_instances.h"
#include "engine/rlvr_plan.h"
#include "engine/simulation.h"
#include "plan/pareto.h"
#include "plan/sweep_expansion.h"

namespace moesim {

namespace {

// An error message without the "<file>: " prefix every plan of the sweep shares (so that the
// same mistake in many plans counts as one reason).
std::string WithoutFilePrefix(const std::string& message, const std::string& file) {
  if (message.compare(0, file.size() + 2, file + ": ") == 0) return message.substr(file.size() + 2);
  return message;
}

// "#12 (deployment.tensor_parallel=8, workload.concurrency=64)".
std::string PlanLabel(const Sweep& sweep, const SweepPlan& p) {
  std::string s = absl::StrCat("#", p.index, " (");
  for (size_t c = 0; c < sweep.columns.size(); ++c) {
    absl::StrAppend(&s, c ? ", " : "", sweep.columns[c], "=", p.values[c].dump());
  }
  return s + ")";
}

// Larger is better.
double ObjectiveScore(SweepObjective o, double tok_per_s_per_gpu, double usd_per_mtok) {
  return o == SweepObjective::kOutputTokPerSPerGpu ? tok_per_s_per_gpu : -usd_per_mtok;
}

bool ScreenMeets(const SweepSlo& slo, const PlanScreen& s, double slack) {
  if (slo.ttft_p90_s && !(s.ttft_s <= *slo.ttft_p90_s * slack)) return false;
  if (slo.tpot_p90_ms && !(s.tpot_s * 1e3 <= *slo.tpot_p90_ms * slack)) return false;
  if (slo.min_tok_per_s_per_user && !(s.tok_per_s_per_user * slack >= *slo.min_tok_per_s_per_user))
    return false;
  return true;
}

bool Meets(const SweepSlo& slo, const SweepMetrics& m) {
  if (slo.ttft_p90_s && !(m.ttft_p90_s && *m.ttft_p90_s <= *slo.ttft_p90_s)) return false;
  if (slo.tpot_p90_ms && !(m.tpot_p90_s && *m.tpot_p90_s * 1e3 <= *slo.tpot_p90_ms)) return false;
  if (slo.min_tok_per_s_per_user && !(m.tok_per_s_per_user >= *slo.min_tok_per_s_per_user))
    return false;
  return true;
}

std::string DescribeSlo(const SweepSlo& slo, const SweepMetrics& m) {
  std::vector<std::string> parts;
  auto fmt = [](const std::optional<double>& v, double scale) {
    return v ? absl::StrFormat("%.3g", *v * scale) : std::string("n/a");
  };
  if (slo.ttft_p90_s) {
    parts.push_back(
        absl::StrCat("TTFT p90 ", fmt(m.ttft_p90_s, 1), " s (SLO ", *slo.ttft_p90_s, ")"));
  }
  if (slo.tpot_p90_ms) {
    parts.push_back(
        absl::StrCat("TPOT p90 ", fmt(m.tpot_p90_s, 1e3), " ms (SLO ", *slo.tpot_p90_ms, ")"));
  }
  if (slo.min_tok_per_s_per_user) {
    parts.push_back(absl::StrFormat("%.3g tok/s per user (SLO >= %g)", m.tok_per_s_per_user,
                                    *slo.min_tok_per_s_per_user));
  }
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&s, i ? ", " : "", parts[i]);
  return s;
}

std::optional<double> OptionalAt(const nlohmann::json& j, const char* a, const char* b,
                                 const char* c = nullptr) {
  if (!j.contains(a) || !j[a].contains(b)) return std::nullopt;
  const nlohmann::json& v = c ? j[a][b] : j[a];
  if (c != nullptr) {
    if (!v.contains(c) || !v[c].is_number()) return std::nullopt;
    return v[c].get<double>();
  }
  if (!v[b].is_number()) return std::nullopt;
  return v[b].get<double>();
}

void SelectForSimulation(Sweep& sweep) {
  std::vector<size_t> screened;
  std::vector<ParetoPoint> points;
  for (size_t i = 0; i < sweep.plans.size(); ++i) {
    if (!sweep.plans[i].screen) continue;
    screened.push_back(i);
    points.push_back({sweep.plans[i].screen->output_tok_per_s_per_gpu,
                      sweep.plans[i].screen->tok_per_s_per_user});
  }
  std::vector<ParetoPoint> frontier;
  for (size_t k : ParetoFrontier(points)) frontier.push_back(points[k]);
  const double keep = sweep.spec.keep_within_pct / 100.0;
  for (size_t k = 0; k < screened.size(); ++k) {
    SweepPlan& p = sweep.plans[screened[k]];
    p.screen_shortfall = FrontierShortfall(points[k], frontier);
    p.selected = sweep.spec.simulate_all || p.screen_shortfall <= keep + 1e-12;
  }
  // The best screened plans of each SLO (their objective, e.g. $/Mtok, can favour a plan off the
  // tok/s frontier): within keep of the best among those the screen says meet it.
  for (const SweepSlo& slo : sweep.spec.slos) {
    std::optional<double> best;
    for (size_t i : screened) {
      const PlanScreen& s = *sweep.plans[i].screen;
      if (!ScreenMeets(slo, s, 1 + keep)) continue;
      const double v = ObjectiveScore(sweep.spec.objective, s.output_tok_per_s_per_gpu,
                                      s.usd_per_million_output_tokens);
      best = best ? std::max(*best, v) : v;
    }
    if (!best) continue;
    for (size_t i : screened) {
      const PlanScreen& s = *sweep.plans[i].screen;
      if (!ScreenMeets(slo, s, 1 + keep)) continue;
      const double v = ObjectiveScore(sweep.spec.objective, s.output_tok_per_s_per_gpu,
                                      s.usd_per_million_output_tokens);
      if (v >= *best - keep * std::fabs(*best)) sweep.plans[i].selected = true;
    }
  }
  for (size_t i : screened) {
    SweepPlan& p = sweep.plans[i];
    if (p.selected) continue;
    p.state = SweepPlanState::kScreenedOut;
    p.reason = absl::StrFormat(
        "screened out: estimate %.0f%% below the screened frontier (%.4g tok/s/GPU, %.4g tok/s "
        "per user)",
        100 * p.screen_shortfall, p.screen->output_tok_per_s_per_gpu, p.screen->tok_per_s_per_user);
  }
}

}  // namespace

const char* SweepPlanStateName(SweepPlanState s) {
  switch (s) {
    case SweepPlanState::kSkipped:
      return "skipped";
    case SweepPlanState::kScreenedOut:
      return "screened_out";
    case SweepPlanState::kScreened:
      return "screened";
    case SweepPlanState::kSimulated:
      return "simulated";
    case SweepPlanState::kFailed:
      return "failed";
  }
  return "";
}

std::vector<size_t> Sweep::Selected() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < plans.size(); ++i) {
    if (plans[i].selected) out.push_back(i);
  }
  return out;
}

void Sweep::SelectNone() {
  for (SweepPlan& p : plans) {
    if (!p.selected) continue;
    p.selected = false;
    p.state = SweepPlanState::kScreened;
    p.reason = "screened only (--screen-only): not simulated";
  }
}

absl::StatusOr<Sweep> PrepareSweep(const nlohmann::json& doc, const std::string& file,
                                   const PresetLibrary& presets) {
  if (!doc.is_object() || !doc.contains("sweep")) {
    return BadInput({file, "$"},
                    "a sweep needs a \"sweep\" section (plan/sweep_spec.h; `moesim "
                    "run` runs a scenario without one)");
  }
  Sweep sweep;
  sweep.file = file;
  auto spec =
      ParseSweepSpec(doc["sweep"], JsonLocation{file, "$"}.Key("sweep"), doc.contains("rlvr"));
  if (!spec.ok()) return spec.status();
  sweep.spec = std::move(*spec);
  sweep.columns = SweepColumns(sweep.spec);
  nlohmann::json base = doc;
  base.erase("sweep");
  const size_t n = sweep.spec.PlanCount();
  sweep.plans.resize(n);
  for (size_t i = 0; i < n; ++i) {
    SweepPlan& p = sweep.plans[i];
    p.index = i;
    p.values = SweepPointValues(sweep.spec, i);
    auto plan_doc = SweepPlanDocument(base, sweep.spec, i);
    absl::StatusOr<Scenario> scenario =
        plan_doc.ok() ? ParseScenario(*plan_doc, file, presets) : plan_doc.status();
    if (!scenario.ok()) {
      p.reason = WithoutFilePrefix(std::string(scenario.status().message()), file);
      continue;
    }
    if (bool(scenario->rlvr) != sweep.spec.rlvr) {
      p.reason = sweep.spec.rlvr
                     ? "no \"rlvr\" section left in this plan (an axis removed it)"
                     : "an \"rlvr\" section set by an axis (the base scenario has none)";
      continue;
    }
    int gpus = 0;
    for (const PoolSpec& pool : scenario->plan.pools) gpus += pool.deployment.total_gpus();
    if (scenario->rlvr) {
      // The trainer: the rollout's GPUs when colocated, its own GPUs otherwise.
      const bool colocated = scenario->rlvr->schedule == RlvrSchedule::kColocated;
      if (absl::Status fits =
              CheckTrainerFits(*scenario, colocated ? gpus : scenario->rlvr->trainer.gpus);
          !fits.ok()) {
        p.reason = WithoutFilePrefix(std::string(fits.message()), file);
        continue;
      }
      if (!colocated) gpus += scenario->rlvr->trainer.gpus;
    }
    if (sweep.spec.max_gpus && gpus > *sweep.spec.max_gpus) {
      p.reason = absl::StrCat("over the GPU budget (max_gpus ", *sweep.spec.max_gpus, ")");
      continue;
    }
    if (sweep.spec.min_gpus && gpus < *sweep.spec.min_gpus) {
      p.reason = absl::StrCat("under the GPU range (min_gpus ", *sweep.spec.min_gpus, ")");
      continue;
    }
    if (sweep.spec.rlvr) {  // no screen: every valid plan is simulated
      p.scenario = std::move(*scenario);
      p.selected = true;
      continue;
    }
    auto screen = ScreenPlan(*scenario);
    if (!screen.ok()) {
      p.reason = WithoutFilePrefix(std::string(screen.status().message()), file);
      continue;
    }
    if (sweep.spec.representative_instances) {
      if (auto set = RepresentativeInstances(*scenario, *plan_doc)) {
        auto reduced = ParseScenario(set->document, file, presets);
        if (reduced.ok()) {
          p.representative = std::move(*reduced);
          p.simulated_instances = set->simulated_instances;
        }
      }
    }
    p.scenario = std::move(*scenario);
    p.screen = std::move(*screen);
  }
  for (const SweepPlan& p : sweep.plans) {
    if (!p.scenario) ++sweep.skip_reasons[p.reason];
  }
  if (sweep.skip_reasons.size() > 0 &&
      std::none_of(sweep.plans.begin(), sweep.plans.end(),
                   [](const SweepPlan& p) { return p.scenario.has_value(); })) {
    std::string reasons;
    for (const auto& [reason, count] : sweep.skip_reasons) {
      absl::StrAppend(&reasons, "\n  ", count, " plan(s): ", reason);
    }
    return BadInput({file, "$.sweep"}, absl::StrCat("no valid plan among ", n, ":", reasons));
  }
  SelectForSimulation(sweep);
  return sweep;
}

absl::StatusOr<std::string> SimulatePlan(const Sweep& sweep, size_t i) {
  const SweepPlan& p = sweep.plans.at(i);
  if (!p.scenario) return absl::InternalError("plan was not parsed");
  auto report = RunSimulation(p.representative ? *p.representative : *p.scenario);
  if (!report.ok()) return report.status();
  SweepMetrics m = SweepMetricsFromReport(*report);
  if (p.representative) {
    // Per-GPU figures and latencies carry over; totals scale to every instance.
    const int instances = p.scenario->plan.pools[0].deployment.instances;
    m.output_tok_per_s *= double(instances) / p.simulated_instances;
    m.gpus = m.gpus / p.simulated_instances * instances;
  }
  return SweepMetricsToJson(m).dump();
}

SweepMetrics SweepMetricsFromReport(const nlohmann::json& r) {
  SweepMetrics m;
  m.gpus = r["plan"]["gpus"].get<int>();
  if (r.value("kind", std::string()) == "rlvr") {
    m.rlvr = RlvrSweepMetricsFromReport(r["rlvr"]);
    m.limit = RlvrStepLimit(r["rlvr"]);
    return m;
  }
  m.output_tok_per_s = r["throughput"]["output_tok_per_s"].get<double>();
  m.output_tok_per_s_per_gpu = r["throughput"]["output_tok_per_s_per_gpu"].get<double>();
  m.tok_per_s_per_user = r["throughput"]["per_user_output_tok_per_s"].get<double>();
  const nlohmann::json& lat = r["latency_s"];
  m.finished_requests = lat["e2e"]["count"].get<int64_t>();
  if (lat["ttft"]["count"].get<int64_t>() > 0) {
    m.ttft_p50_s = lat["ttft"]["p50"].get<double>();
    m.ttft_p90_s = lat["ttft"]["p90"].get<double>();
  }
  if (lat["tpot"]["count"].get<int64_t>() > 0) {
    m.tpot_p50_s = lat["tpot"]["p50"].get<double>();
    m.tpot_p90_s = lat["tpot"]["p90"].get<double>();
  }
  if (m.output_tok_per_s > 0) {
    m.usd_per_million_output_tokens = OptionalAt(r, "cost", "usd_per_million_output_tokens");
  }
  m.limit = r["limit"]["subsystem"].get<std::string>();
  if (r["limit"].contains("pool")) m.limit = r["limit"]["pool"].get<std::string>() + ": " + m.limit;
  return m;
}

nlohmann::json SweepMetricsToJson(const SweepMetrics& m) {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nullptr; };
  if (m.rlvr) {
    nlohmann::json j = RlvrSweepMetricsToJson(*m.rlvr);
    j["kind"] = "rlvr";
    j["gpus"] = m.gpus;
    j["limit"] = m.limit;
    return j;
  }
  return {{"gpus", m.gpus},
          {"output_tok_per_s", m.output_tok_per_s},
          {"output_tok_per_s_per_gpu", m.output_tok_per_s_per_gpu},
          {"tok_per_s_per_user", m.tok_per_s_per_user},
          {"ttft_p50_s", opt(m.ttft_p50_s)},
          {"ttft_p90_s", opt(m.ttft_p90_s)},
          {"tpot_p50_s", opt(m.tpot_p50_s)},
          {"tpot_p90_s", opt(m.tpot_p90_s)},
          {"usd_per_million_output_tokens", opt(m.usd_per_million_output_tokens)},
          {"limit", m.limit},
          {"finished_requests", m.finished_requests}};
}

SweepMetrics SweepMetricsFromJson(const nlohmann::json& j) {
  auto opt = [&](const char* k) {
    return j[k].is_null() ? std::nullopt : std::optional<double>(j[k].get<double>());
  };
  SweepMetrics m;
  m.gpus = j["gpus"].get<int>();
  if (j.value("kind", std::string()) == "rlvr") {
    m.rlvr = RlvrSweepMetricsFromJson(j);
    m.limit = j["limit"].get<std::string>();
    return m;
  }
  m.output_tok_per_s = j["output_tok_per_s"].get<double>();
  m.output_tok_per_s_per_gpu = j["output_tok_per_s_per_gpu"].get<double>();
  m.tok_per_s_per_user = j["tok_per_s_per_user"].get<double>();
  m.ttft_p50_s = opt("ttft_p50_s");
  m.ttft_p90_s = opt("ttft_p90_s");
  m.tpot_p50_s = opt("tpot_p50_s");
  m.tpot_p90_s = opt("tpot_p90_s");
  m.usd_per_million_output_tokens = opt("usd_per_million_output_tokens");
  m.limit = j["limit"].get<std::string>();
  m.finished_requests = j["finished_requests"].get<int64_t>();
  return m;
}

namespace {

// The objective, SLOs and frontier of a serving or an RLVR sweep, on one plan's metrics.
double Score(const Sweep& sweep, const SweepMetrics& m) {
  if (m.rlvr) return RlvrObjectiveScore(sweep.spec.objective, *m.rlvr);
  return ObjectiveScore(sweep.spec.objective, m.output_tok_per_s_per_gpu,
                        m.usd_per_million_output_tokens.value_or(1e300));
}

bool MeetsSlo(const SweepSlo& slo, const SweepMetrics& m) {
  return m.rlvr ? RlvrMeets(slo, *m.rlvr) : Meets(slo, m);
}

// The largest ratio of a metric to its bound (the plan closest to an SLO has the smallest).
double SloRatio(const SweepSlo& slo, const SweepMetrics& m) {
  if (m.rlvr) return RlvrSloRatio(slo, *m.rlvr);
  double ratio = 1;
  if (slo.ttft_p90_s) ratio = std::max(ratio, m.ttft_p90_s.value_or(1e300) / *slo.ttft_p90_s);
  if (slo.tpot_p90_ms)
    ratio = std::max(ratio, m.tpot_p90_s.value_or(1e300) * 1e3 / *slo.tpot_p90_ms);
  if (slo.min_tok_per_s_per_user)
    ratio = std::max(ratio, *slo.min_tok_per_s_per_user / std::max(1e-300, m.tok_per_s_per_user));
  return ratio;
}

std::string SloText(const SweepSlo& slo, const SweepMetrics& m) {
  return m.rlvr ? DescribeRlvrSlo(slo, *m.rlvr) : DescribeSlo(slo, m);
}

// Serving: (tok/s per GPU, tok/s per user); RLVR: (steps per second, steps per $), so that the
// frontier keeps the plans no other beats on both step time and $ per step.
ParetoPoint FrontierPoint(const SweepMetrics& m) {
  if (m.rlvr) {
    return {1 / std::max(1e-300, m.rlvr->step_time_s), 1 / std::max(1e-300, m.rlvr->usd_per_step)};
  }
  return {m.output_tok_per_s_per_gpu, m.tok_per_s_per_user};
}

std::string MetricsText(const SweepMetrics& m) {
  if (m.rlvr) {
    return absl::StrFormat("%s on %d GPUs; limit: %s", DescribeRlvrStep(*m.rlvr), m.gpus, m.limit);
  }
  return absl::StrFormat(
      "%.4g output tok/s per GPU, %.4g tok/s per user, %s $/Mtok on %d GPUs; limit: %s",
      m.output_tok_per_s_per_gpu, m.tok_per_s_per_user,
      m.usd_per_million_output_tokens ? absl::StrFormat("%.3g", *m.usd_per_million_output_tokens)
                                      : std::string("n/a"),
      m.gpus, m.limit);
}

}  // namespace

void FinishSweep(Sweep& sweep, const std::vector<absl::StatusOr<std::string>>& results) {
  const std::vector<size_t> selected = sweep.Selected();
  for (size_t k = 0; k < selected.size(); ++k) {
    SweepPlan& p = sweep.plans[selected[k]];
    const absl::StatusOr<std::string>& r =
        k < results.size() ? results[k] : absl::InternalError("no result came back");
    if (!r.ok()) {
      p.state = SweepPlanState::kFailed;
      p.reason = WithoutFilePrefix(std::string(r.status().message()), sweep.file);
      continue;
    }
    p.state = SweepPlanState::kSimulated;
    p.metrics = SweepMetricsFromJson(nlohmann::json::parse(*r));
    for (const SweepSlo& slo : sweep.spec.slos) p.meets_slo.push_back(MeetsSlo(slo, *p.metrics));
  }
  std::vector<size_t> simulated;
  std::vector<ParetoPoint> points;
  for (size_t i = 0; i < sweep.plans.size(); ++i) {
    if (sweep.plans[i].state != SweepPlanState::kSimulated) continue;
    simulated.push_back(i);
    points.push_back(FrontierPoint(*sweep.plans[i].metrics));
  }
  sweep.frontier.clear();
  for (size_t k : ParetoFrontier(points)) {
    sweep.frontier.push_back(simulated[k]);
    sweep.plans[simulated[k]].on_frontier = true;
  }
  // The best plan by the objective: overall, then per SLO among the plans that meet it.
  auto score = [&](const SweepPlan& p) { return Score(sweep, *p.metrics); };
  sweep.best.clear();
  std::vector<std::optional<size_t>> best(sweep.spec.slos.size() + 1);
  for (size_t i : simulated) {
    const SweepPlan& p = sweep.plans[i];
    if (!best[0] || score(p) > score(sweep.plans[*best[0]])) best[0] = i;
    for (size_t s = 0; s < sweep.spec.slos.size(); ++s) {
      if (p.meets_slo[s] && (!best[s + 1] || score(p) > score(sweep.plans[*best[s + 1]]))) {
        best[s + 1] = i;
      }
    }
  }
  const std::string objective = SweepObjectiveName(sweep.spec.objective);
  SweepBest overall{"", best[0], "no plan was simulated"};
  if (best[0]) {
    const SweepPlan& p = sweep.plans[*best[0]];
    overall.reason = absl::StrCat(PlanLabel(sweep, p), " has the best ", objective, ": ",
                                  MetricsText(*p.metrics));
  }
  sweep.best.push_back(overall);
  for (size_t s = 0; s < sweep.spec.slos.size(); ++s) {
    const SweepSlo& slo = sweep.spec.slos[s];
    SweepBest b{slo.name, best[s + 1], ""};
    if (best[s + 1]) {
      const SweepPlan& p = sweep.plans[*best[s + 1]];
      b.reason = absl::StrCat(PlanLabel(sweep, p), " has the best ", objective,
                              " of the plans that meet it: ", MetricsText(*p.metrics), "; ",
                              SloText(slo, *p.metrics));
    } else {
      // The simulated plan that comes closest: the smallest worst ratio to a bound.
      std::optional<size_t> closest;
      double closest_ratio = 0;
      for (size_t i : simulated) {
        const double ratio = SloRatio(slo, *sweep.plans[i].metrics);
        if (!closest || ratio < closest_ratio) {
          closest = i;
          closest_ratio = ratio;
        }
      }
      b.reason = closest ? absl::StrCat("no simulated plan meets it; the closest, ",
                                        PlanLabel(sweep, sweep.plans[*closest]), ", has ",
                                        SloText(slo, *sweep.plans[*closest].metrics))
                         : "no plan was simulated";
    }
    sweep.best.push_back(b);
  }
}

nlohmann::json SweepToJson(const Sweep& sweep) {
  nlohmann::json plans = nlohmann::json::array();
  for (const SweepPlan& p : sweep.plans) {
    nlohmann::json axes = nlohmann::json::object();
    for (size_t c = 0; c < sweep.columns.size(); ++c) axes[sweep.columns[c]] = p.values[c];
    nlohmann::json row = {{"index", p.index},
                          {"axes", axes},
                          {"state", SweepPlanStateName(p.state)},
                          {"reason", p.reason}};
    if (p.screen) {
      const PlanScreen& s = *p.screen;
      row["screen"] = {{"gpus", s.gpus},
                       {"output_tok_per_s_per_gpu", s.output_tok_per_s_per_gpu},
                       {"tok_per_s_per_user", s.tok_per_s_per_user},
                       {"tpot_s", s.tpot_s},
                       {"ttft_s", std::isfinite(s.ttft_s) ? nlohmann::json(s.ttft_s) : nullptr},
                       {"overloaded", s.overloaded},
                       {"limit", s.limit},
                       {"shortfall_pct", 100 * p.screen_shortfall}};
    }
    if (p.metrics) {
      row["simulated"] = SweepMetricsToJson(*p.metrics);
      row["simulated"]["instances_simulated"] = p.representative ? p.simulated_instances
                                                : p.scenario->plan.pools.size() == 1
                                                    ? p.scenario->plan.pools[0].deployment.instances
                                                    : 0;
      row["screen_error_pct"] =
          p.screen && p.metrics->output_tok_per_s_per_gpu > 0
              ? nlohmann::json(
                    100 *
                    (p.screen->output_tok_per_s_per_gpu / p.metrics->output_tok_per_s_per_gpu - 1))
              : nlohmann::json(nullptr);
      nlohmann::json slos = nlohmann::json::object();
      for (size_t s = 0; s < sweep.spec.slos.size(); ++s) {
        slos[sweep.spec.slos[s].name] = bool(p.meets_slo[s]);
      }
      row["meets_slo"] = slos;
      row["on_frontier"] = p.on_frontier;
    }
    plans.push_back(std::move(row));
  }
  nlohmann::json best = nlohmann::json::array();
  for (const SweepBest& b : sweep.best) {
    best.push_back({{"slo", b.slo.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.slo)},
                    {"plan", b.plan ? nlohmann::json(*b.plan) : nlohmann::json(nullptr)},
                    {"reason", b.reason}});
  }
  nlohmann::json counts = nlohmann::json::object();
  for (SweepPlanState st :
       {SweepPlanState::kSkipped, SweepPlanState::kScreenedOut, SweepPlanState::kScreened,
        SweepPlanState::kSimulated, SweepPlanState::kFailed}) {
    counts[SweepPlanStateName(st)] = std::count_if(
        sweep.plans.begin(), sweep.plans.end(), [&](const SweepPlan& p) { return p.state == st; });
  }
  return {{"kind", sweep.spec.rlvr ? "rlvr" : "serving"},
          {"plans", plans},
          {"counts", counts},
          {"columns", sweep.columns},
          {"objective", SweepObjectiveName(sweep.spec.objective)},
          {"frontier", sweep.frontier},
          {"best", best},
          {"skip_reasons", sweep.skip_reasons}};
}

}  // namespace moesim
