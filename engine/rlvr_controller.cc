#include "engine/rlvr_controller.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <memory>
#include <random>

#include "models/rlvr_trainer_cost.h"

namespace moesim {

namespace {

// One rollout sample: its prompt, the response length it is drawn to reach, and how much of it
// earlier steps generated (partial rollouts).
struct Sample {
  int64_t prompt = 0;
  int64_t response = 0;
  int64_t generated = 0;
};

struct RlvrState {
  Run* run = nullptr;
  const RlvrSetup* setup = nullptr;
  RlvrTimeline* out = nullptr;
  std::vector<Sample> samples;  // every sample of the run, by index (Request::client)
  std::deque<int64_t> carried;  // samples continuing in the next rollout
  std::vector<std::vector<int64_t>> finished_by_step;  // samples to train on, per step
  int rolled_out = -1;                                 // last step whose rollout ended
  int synced = -1;  // last step whose weights reached the rollout GPUs
  sg4::MutexPtr mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr changed = sg4::ConditionVariable::create();
  std::mt19937_64 rng;
};

// Waits until `ready` or the run's duration cap; false at the cap (the run then reports the
// steps that did not finish).
bool WaitFor(RlvrState* st, const std::function<bool()>& ready) {
  const double cap = st->run->scenario.simulation.duration_s;
  std::unique_lock<sg4::Mutex> lock(*st->mutex);
  while (!ready()) {
    if (sg4::Engine::get_clock() >= cap) return false;
    st->changed->wait_until(lock, cap);
  }
  return true;
}

void Signal(RlvrState* st) { st->changed->notify_all(); }

void ControllerActor(RlvrState* st) {
  Run* run = st->run;
  const RlvrSpec& spec = *st->setup->spec;
  // Rollout k waits for the weights of step k - lag.
  const int lag = spec.schedule == RlvrSchedule::kOneStepOffPolicy ? 2 : 1;
  for (int k = 0; k < spec.steps; ++k) {
    if (!WaitFor(st, [&] { return st->synced >= k - lag || !run->error.ok(); })) return;
    if (!run->error.ok()) return;
    RlvrStepRecord& rec = st->out->steps[k];
    rec.step = k;
    rec.rollout_start_s = sg4::Engine::get_clock();
    // This step's samples: the carried ones first, then N new prompts × G samples each.
    std::vector<int64_t> batch(st->carried.begin(), st->carried.end());
    st->carried.clear();
    for (int64_t p = 0; p < spec.prompts_per_step; ++p) {
      const int64_t prompt = SampleLength(spec.prompt_tokens, st->rng);
      for (int64_t g = 0; g < spec.samples_per_prompt; ++g) {
        st->samples.push_back({prompt, SampleLength(spec.output_tokens, st->rng), 0});
        batch.push_back(static_cast<int64_t>(st->samples.size()) - 1);
      }
    }
    for (int64_t id : batch) {
      const Sample& s = st->samples[id];
      Request* r = run->NewRequest(id);
      r->input_tokens = s.prompt + s.generated;
      const int64_t left = s.response - s.generated;
      r->output_tokens =
          spec.partial_rollout_tokens ? std::min(left, *spec.partial_rollout_tokens) : left;
      rec.prompt_tokens += r->input_tokens;
      run->Route(r);
    }
    rec.samples_run = static_cast<int64_t>(batch.size());
    const int64_t tail_mark = static_cast<int64_t>(std::ceil(0.9 * double(batch.size())));
    int64_t done = 0;
    std::vector<int64_t> finished;
    const double cap = run->scenario.simulation.duration_s;
    while (done < rec.samples_run && run->error.ok()) {
      if (sg4::Engine::get_clock() >= cap) return;  // the cap: reported after the run
      std::unique_lock<sg4::Mutex> lock(*run->source_mutex);
      if (run->finished.empty()) run->source_wake->wait_until(lock, cap);
      while (!run->finished.empty()) {
        Request* r = run->finished.front();
        run->finished.pop_front();
        Sample& s = st->samples[r->client];
        s.generated += r->output_tokens;
        rec.response_tokens += r->output_tokens;
        if (s.generated >= s.response) {
          finished.push_back(r->client);
        } else {
          st->carried.push_back(r->client);
        }
        if (++done == tail_mark) rec.tail_start_s = sg4::Engine::get_clock();
      }
    }
    rec.rollout_end_s = sg4::Engine::get_clock();
    rec.samples_finished = static_cast<int64_t>(finished.size());
    rec.samples_carried = static_cast<int64_t>(st->carried.size());
    st->finished_by_step[k] = std::move(finished);
    st->rolled_out = k;
    Signal(st);
    if (!run->error.ok()) break;
  }
  if (!WaitFor(st, [&] { return st->synced >= spec.steps - 1 || !run->error.ok(); })) return;
  st->out->samples_unfinished = static_cast<int64_t>(st->carried.size());
  run->Stop();
}

// Fault injection: waits while the trainer's GPUs are down (or until the run's cap).
void WaitTrainerUp(Run* run) {
  const double cap = run->scenario.simulation.duration_s;
  std::unique_lock<sg4::Mutex> lock(*run->trainer_mutex);
  while (run->trainer_down() && sg4::Engine::get_clock() < cap) {
    run->trainer_wake->wait_until(lock, cap);
  }
}

// `seconds` of trainer work on SimGrid's clock; false when a trainer fault comes first (the
// work is lost) — without faults, a plain sleep.
bool TrainerWork(Run* run, double seconds, int64_t failures) {
  if (run->faults.empty()) {
    sg4::this_actor::sleep_for(seconds);
    return true;
  }
  const double end = sg4::Engine::get_clock() + seconds;
  std::unique_lock<sg4::Mutex> lock(*run->trainer_mutex);
  while (sg4::Engine::get_clock() < end && run->trainer_failures == failures) {
    run->trainer_wake->wait_until(lock, end);
  }
  return run->trainer_failures == failures;
}

// Step k's training, optimizer step and weight sync (colocated: the switches each way). A fault
// on a trainer GPU before the new weights have reached the rollout GPUs loses them (a restart
// from the state at the step's start: a checkpoint every step, the shortcut taken here): the
// trainer waits for its GPUs and does it all again. A weight sync in flight is a SimGrid
// transfer that runs to its end before the loss is seen. False when the run's cap came first
// (the step did not finish: sync_end_s stays 0).
bool TrainStep(RlvrState* st, RlvrStepRecord& rec) {
  Run* run = st->run;
  const RlvrSetup& setup = *st->setup;
  const bool colocated = setup.spec->schedule == RlvrSchedule::kColocated;
  rec.train_start_s = sg4::Engine::get_clock();
  while (run->error.ok()) {
    WaitTrainerUp(run);
    const int64_t failures = run->trainer_failures;
    const double attempt_s = sg4::Engine::get_clock();
    bool ok = true;
    if (colocated) {
      ok = TrainerWork(run, setup.switch_to_train_s, failures);
      rec.switch_in_s = setup.switch_to_train_s;
    }
    ok = ok && TrainerWork(run, rec.train_flops / setup.trainer_flops_per_s + setup.optimizer_s,
                           failures);
    rec.train_end_s = rec.sync_start_s = sg4::Engine::get_clock();
    if (ok && colocated) {
      ok = TrainerWork(run, setup.switch_to_rollout_s, failures);
      rec.switch_out_s = setup.switch_to_rollout_s;
    } else if (ok && !setup.sync.empty()) {
      auto moved = setup.sync_runner->Run(setup.sync, /*setup=*/true);
      ok = run->trainer_failures == failures;
      if (!moved.ok()) {
        run->error = moved.status();
      } else if (!ok) {
        rec.sync_bytes_lost += moved->bytes;  // weights of an attempt the fault lost
      } else {
        rec.sync_bytes = moved->bytes;
        rec.sync_tier_bytes = moved->tier_bytes;
      }
    }
    if (ok) {
      rec.sync_end_s = sg4::Engine::get_clock();
      return true;
    }
    if (sg4::Engine::get_clock() >= run->scenario.simulation.duration_s) break;
    ++rec.training_restarts;
    rec.train_lost_s += sg4::Engine::get_clock() - attempt_s;
    ++run->faults[run->trainer_last_failure].training_restarts;
  }
  return false;
}

void TrainerActor(RlvrState* st) {
  Run* run = st->run;
  const RlvrSpec& spec = *st->setup->spec;
  for (int k = 0; k < spec.steps; ++k) {
    if (!WaitFor(st, [&] { return st->rolled_out >= k || !run->error.ok(); })) return;
    if (!run->error.ok()) break;
    RlvrStepRecord& rec = st->out->steps[k];
    for (int64_t id : st->finished_by_step[k]) {
      const Sample& s = st->samples[id];
      rec.train_tokens += s.prompt + s.response;
      rec.train_flops +=
          TrainSampleFlops(run->scenario.model, s.prompt, s.response, spec.trainer.reference_model);
    }
    if (!TrainStep(st, rec)) {
      Signal(st);
      return;
    }
    st->synced = k;
    Signal(st);
  }
  Signal(st);
}

}  // namespace

void StartRlvrActors(Run* run, const RlvrSetup* setup, RlvrTimeline* out) {
  // Shared by the two actors; freed with the last of them.
  auto st = std::make_shared<RlvrState>();
  st->run = run;
  st->setup = setup;
  st->out = out;
  // A stream of its own, derived from the scenario seed.
  st->rng.seed(run->scenario.simulation.seed * 7919ULL + 17);
  out->steps.assign(setup->spec->steps, RlvrStepRecord{});
  st->finished_by_step.resize(setup->spec->steps);
  sg4::Actor::create("rlvr-controller", run->platform->frontend,
                     [st] { ControllerActor(st.get()); });
  sg4::Actor::create("rlvr-trainer", run->platform->frontend, [st] { TrainerActor(st.get()); });
}

}  // namespace moesim
