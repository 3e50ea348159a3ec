// A trace of a run in the Chrome trace-event JSON format, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open (issue 18): one process per pool with
//  * one track per instance with each step as a slice (its tokens, running and queued sequences
//    as arguments);
//  * at `kernel` fidelity, one track per GPU with each kernel the GPU's group ran (a group's
//    first GPU stands for the group);
//  * one track per link tier (scale-up, scale-out, inter-rack, host) with every collective and
//    transfer whose bottleneck is there (all-reduces, MoE dispatches and combines, attention/FFN
//    hops, pipeline sends; prefill/decode KV transfers on the decode pool's), named by role,
//    with their bytes;
//  * counters per instance: running and queued sequences, KV blocks in use, and each tier's
//    GB/s and utilisation (of the instance's links of that tier) over the step that just ended;
// and each request as an async slice from arrival to its last token with a nested "waiting for
// the first token" slice. A time window keeps files small on long runs. Pure C++: the
// simulation hands it steps and requests (engine/instance.h observers) and the runners' activities
// (engine/step_activity.h), the command line writes ToJson(). The same seed gives the same bytes.
//
// Not traced: offload I/O (KV offload is not modelled yet).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/instance.h"
#include "engine/step_activity.h"

namespace moesim {

class TraceRecorder {
 public:
  // Events outside [start_s, end_s] are dropped.
  TraceRecorder(double start_s, double end_s);
  ~TraceRecorder();

  // The observer of pool `pool` (named `name`) to hand its instances; it lives as long as the
  // recorder.
  // `tier_capacity`: one instance's link bandwidth per tier, B/s (its utilisation counters).
  StepObserver* PoolObserver(int pool, const std::string& name,
                             const std::array<double, 4>& tier_capacity);
  // The sink of pool `pool`'s step runners (engine/step_activity.h); lives as long as the
  // recorder.
  StepActivitySink* ActivitySink(int pool);

  // The trace file's text: {"displayTimeUnit": "ms", "traceEvents": [...]}. Events are kept as
  // JSON text as they come (a long run has millions), not as JSON objects.
  std::string Text() const;

 private:
  class Observer;
  class Sink;
  void Step(int pool, int instance, const StepRecord& s, const TimeBreakdown& gpu_time,
            const std::array<double, 4>& tier_capacity);
  void Activity(int pool, const StepActivity& a);
  // A named track (thread) of `pool`, declared once.
  void Track(int pool, int tid, const std::string& name);
  void Finished(const Request& r);

  double start_s_, end_s_;
  std::vector<std::unique_ptr<Observer>> observers_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::set<std::pair<int, int>> tracks_;  // (pool, tid) declared
  // Appends one event: the fields between the braces, already JSON.
  void Event(const std::string& fields);

  std::string events_;  // the events so far, comma-separated
};

}  // namespace moesim
