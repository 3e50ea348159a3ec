#include "engine/rlvr_report.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/invariant.h"

namespace moesim {

namespace {

using Window = std::pair<double, double>;

// Busy time of a GPU group over [0, end] from its busy windows (they may touch, not overlap),
// and its idle time measured independently, as the gaps between them.
struct GroupTime {
  double busy = 0;
  double idle = 0;
};

GroupTime Account(std::vector<Window> busy, double end, const char* group) {
  std::sort(busy.begin(), busy.end());
  GroupTime t;
  double cursor = 0;
  for (const Window& w : busy) {
    MOESIM_CHECK(w.first >= cursor - 1e-9, "the ", group, " GPUs were busy twice at ", w.first,
                 " s (a phase overlaps another)");
    t.idle += std::max(0.0, w.first - cursor);
    t.busy += w.second - w.first;
    cursor = std::max(cursor, w.second);
  }
  t.idle += std::max(0.0, end - cursor);
  MOESIM_CHECK(std::fabs(t.busy + t.idle - end) <= 1e-6 * std::max(1.0, end), "the ", group,
               " GPUs' busy ", t.busy, " s + idle ", t.idle, " s differ from the run's ", end,
               " s");
  return t;
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

}  // namespace

absl::StatusOr<nlohmann::json> BuildRlvrReport(const Scenario& s, const RlvrSetup& setup,
                                               const RlvrTimeline& tl) {
  const RlvrSpec& spec = *setup.spec;
  const bool colocated = spec.schedule == RlvrSchedule::kColocated;
  const int rollout_gpus = static_cast<int>(setup.rollout_gpus.size());
  const int trainer_gpus = static_cast<int>(setup.trainer_gpus.size());
  const int gpus = colocated ? rollout_gpus : rollout_gpus + trainer_gpus;
  const double price = s.economics.PriceFor(s.hardware.gpu);

  // Nothing lost: every sample that ran finished or was carried; carried ones ran again.
  int64_t created = 0, finished = 0;
  for (size_t k = 0; k < tl.steps.size(); ++k) {
    const RlvrStepRecord& r = tl.steps[k];
    const int64_t carried_in = k == 0 ? 0 : tl.steps[k - 1].samples_carried;
    MOESIM_CHECK(r.samples_run == carried_in + spec.samples_per_step() &&
                     r.samples_finished + r.samples_carried == r.samples_run,
                 "step ", k, " ran ", r.samples_run, " samples (", carried_in, " carried in + ",
                 spec.samples_per_step(), " new) but finished ", r.samples_finished,
                 " and carried ", r.samples_carried);
    created += spec.samples_per_step();
    finished += r.samples_finished;
  }
  MOESIM_CHECK(created == finished + tl.samples_unfinished, created, " samples drawn, ", finished,
               " finished, ", tl.samples_unfinished, " unfinished");
  // Weight sync: the weights (or delta) times the rollout instances that receive them.
  double expected_sync = 0;
  if (!colocated) {
    int receivers = 0;
    for (const PoolSpec& p : s.plan.pools) receivers += p.deployment.instances;
    expected_sync = setup.sync_bytes_per_instance * receivers;
    for (const RlvrStepRecord& r : tl.steps) {
      MOESIM_CHECK(std::fabs(r.sync_bytes - expected_sync) <= 1e-6 * expected_sync, "step ", r.step,
                   " synced ", r.sync_bytes, " bytes, expected ", expected_sync);
    }
  }

  const double end = tl.steps.back().sync_end_s;
  std::vector<Window> rollout_busy, trainer_busy;
  nlohmann::json steps = nlohmann::json::array();
  std::vector<double> rollout_s, tail_s, train_s, sync_s, switch_s, step_s, tokens;
  for (size_t k = 0; k < tl.steps.size(); ++k) {
    const RlvrStepRecord& r = tl.steps[k];
    rollout_busy.emplace_back(r.rollout_start_s, r.rollout_end_s);
    (colocated ? rollout_busy : trainer_busy).emplace_back(r.train_start_s, r.sync_end_s);
    // A step lasts from the end of the previous step's weight sync (the run's start for the
    // first) to the end of its own.
    const double begin = k == 0 ? 0.0 : tl.steps[k - 1].sync_end_s;
    rollout_s.push_back(r.rollout_end_s - r.rollout_start_s);
    tail_s.push_back(r.rollout_end_s - r.tail_start_s);
    train_s.push_back(std::max(0.0, r.train_end_s - r.train_start_s - r.switch_in_s));
    sync_s.push_back(std::max(0.0, r.sync_end_s - r.sync_start_s - r.switch_out_s));
    switch_s.push_back(r.switch_in_s + r.switch_out_s);
    step_s.push_back(r.sync_end_s - begin);
    tokens.push_back(double(r.response_tokens));
    steps.push_back({{"step", r.step},
                     {"rollout_start_s", r.rollout_start_s},
                     {"rollout_s", rollout_s.back()},
                     {"slowest_10pct_s", tail_s.back()},
                     {"train_s", train_s.back()},
                     {"sync_s", sync_s.back()},
                     {"switch_s", switch_s.back()},
                     {"step_s", step_s.back()},
                     {"samples_run", r.samples_run},
                     {"samples_finished", r.samples_finished},
                     {"samples_carried", r.samples_carried},
                     {"response_tokens", r.response_tokens},
                     {"prompt_tokens_prefilled", r.prompt_tokens},
                     {"train_tokens", r.train_tokens},
                     {"train_pflop", r.train_flops / 1e15},
                     {"sync_bytes", r.sync_bytes}});
    if (!s.faults.empty()) {
      // Trainer faults: attempts lost (inside train_s and sync_s above) and their sync bytes.
      steps.back()["training_restarts"] = r.training_restarts;
      steps.back()["train_lost_s"] = r.train_lost_s;
      steps.back()["sync_bytes_lost"] = r.sync_bytes_lost;
    }
  }
  const GroupTime rollout_time = Account(rollout_busy, end, "rollout");
  GroupTime trainer_time;
  if (!colocated) trainer_time = Account(trainer_busy, end, "trainer");
  // The steady step: the mean over steps after the first when there are several (the first has
  // no overlap to gain under one-step off-policy), else the only one.
  const double step_time = tl.steps.size() > 1
                               ? (end - tl.steps[0].sync_end_s) / double(tl.steps.size() - 1)
                               : step_s[0];
  const double gpu_hours = step_time * gpus / 3600;
  const double rollout_usd =
      Mean(rollout_s) * rollout_gpus * price / 3600;  // the rollout GPUs while they roll out
  const double tail_share = Mean(rollout_s) > 0 ? Mean(tail_s) / Mean(rollout_s) : 0;

  // The limit of each phase and of the step.
  const double sync_mean = Mean(sync_s), train_mean = Mean(train_s), roll_mean = Mean(rollout_s);
  std::string sync_limit = "host links (the colocated switch reloads the weights)";
  nlohmann::json tier_json = nlohmann::json::object();
  if (!colocated) {
    std::array<double, kLinkTierCount> tiers{};
    for (const RlvrStepRecord& r : tl.steps) {
      for (int t = 0; t < kLinkTierCount; ++t) tiers[t] += r.sync_tier_bytes[t];
    }
    for (int t = 0; t < kLinkTierCount; ++t) {
      tier_json[LinkTierName(static_cast<LinkTier>(t))] = tiers[t] / double(tl.steps.size());
    }
    sync_limit = "the links the weights cross (SimGrid flows from the trainer's GPUs)";
  }
  const std::pair<const char*, double> phases[] = {{"rollout", roll_mean},
                                                   {"training", train_mean},
                                                   {"weight_sync", sync_mean},
                                                   {"switch", Mean(switch_s)}};
  const auto* longest = &phases[0];
  for (const auto& p : phases) {
    if (p.second > longest->second) longest = &p;
  }

  nlohmann::json r = nlohmann::json::object();
  r["scenario"] = s.name;
  r["kind"] = "rlvr";
  r["plan"] = {{"gpus", gpus},
               {"rollout_gpus", rollout_gpus},
               {"trainer_gpus", trainer_gpus},
               {"schedule", RlvrScheduleName(spec.schedule)},
               {"model", s.model.name},
               {"fidelity", FidelityName(s.simulation.fidelity)}};
  r["rlvr"] = {
      {"steps", steps},
      {"step_time_s", step_time},
      {"split_s",
       {{"rollout", roll_mean},
        {"rollout_slowest_10pct", Mean(tail_s)},
        {"training", train_mean},
        {"weight_sync", sync_mean},
        {"switch", Mean(switch_s)}}},
      {"rollout_tail_share", tail_share},
      {"gpu_seconds",
       {{"rollout_busy", rollout_time.busy * rollout_gpus},
        {"rollout_idle", rollout_time.idle * rollout_gpus},
        {"trainer_busy", trainer_time.busy * trainer_gpus},
        {"trainer_idle", trainer_time.idle * trainer_gpus},
        {"wall_times_gpus", end * gpus}}},
      {"gpu_hours_per_step", gpu_hours},
      {"usd_per_step", gpu_hours * price},
      {"steps_per_day", 86400 / step_time},
      {"steps_per_quarter", 86400 * kRlvrQuarterDays / step_time},
      {"response_tokens_per_step", Mean(tokens)},
      {"rollout_usd_per_million_tokens",
       Mean(tokens) > 0 ? nlohmann::json(rollout_usd / (Mean(tokens) / 1e6)) : nlohmann::json()},
      {"samples_unfinished_at_end", tl.samples_unfinished},
      {"rollout_preemptions", tl.rollout_preemptions},
      {"trainer",
       {{"costing", "analytic: FLOPs / (GPUs x dense bf16 peak x MFU), optimizer step HBM-bound"},
        {"mfu", spec.trainer.mfu},
        {"mfu_source", spec.trainer.mfu_source},
        {"optimizer_step_s", setup.optimizer_s},
        {"optimizer_steps_per_s", 1.0 / step_time}}},
      {"weight_sync",
       {{"bytes_per_step", colocated ? 0.0 : tl.steps.back().sync_bytes},
        {"expected_bytes", expected_sync},
        {"tier_bytes_per_step", tier_json},
        {"dtype", spec.sync_dtype},
        {"delta_fraction", spec.delta_fraction}}},
      {"limits",
       {{"step", longest->first},
        {"rollout", tl.rollout_preemptions > 0
                        ? absl::StrFormat("KV capacity: %d sequences preempted and recomputed "
                                          "over the run (the samples' KV does not fit at once)",
                                          tl.rollout_preemptions)
                    : tail_share > 0.3 ? absl::StrFormat("the longest samples: the slowest 10 %% "
                                                         "take %.0f %% of the rollout",
                                                         100 * tail_share)
                                       : std::string("decode throughput of the rollout plan")},
        {"training", absl::StrFormat("compute at MFU %.2f", spec.trainer.mfu)},
        {"weight_sync", sync_limit}}}};
  r["cost"] = {{"usd_per_gpu_hour", price}, {"usd_per_hour", gpus * price}};
  return r;
}

}  // namespace moesim
