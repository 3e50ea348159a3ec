// A trace of a run in the Chrome trace-event JSON format, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open (issue 18): one process per pool, one track per instance with each step
// as a slice (its tokens, running and queued sequences as arguments), each request as an async
// slice from arrival to its last token with a nested "waiting for the first token" slice, and
// counters per pool (running and queued sequences, KV blocks in use). A time window keeps files
// small on long runs. Pure C++: the simulation hands it steps and requests (engine/instance.h
// observers), the command line writes ToJson(). The same seed gives the same bytes.
//
// Not traced yet: kernels at `kernel` fidelity, collectives and KV transfers as slices on link
// tracks, per-link utilisation counters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/instance.h"

namespace moesim {

class TraceRecorder {
 public:
  // Events outside [start_s, end_s] are dropped.
  TraceRecorder(double start_s, double end_s);
  ~TraceRecorder();

  // The observer of pool `pool` (named `name`) to hand its instances; it lives as long as the
  // recorder.
  StepObserver* PoolObserver(int pool, const std::string& name);

  nlohmann::json ToJson() const;

 private:
  class Observer;
  void Step(int pool, int instance, const StepRecord& s);
  void Finished(const Request& r);

  double start_s_, end_s_;
  std::vector<std::unique_ptr<Observer>> observers_;
  nlohmann::json events_ = nlohmann::json::array();
};

}  // namespace moesim
