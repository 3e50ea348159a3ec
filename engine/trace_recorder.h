// A trace of a run in the Chrome trace-event JSON format, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open (issue 18): one process per pool with
//  * one track per instance with each step as a slice (its tokens, running and queued sequences
//    as arguments);
//  * at `kernel` fidelity, one track per GPU with each kernel the GPU's group ran (a group's
//    first GPU stands for the group);
//  * one track per link tier (scale-up, scale-out, inter-rack, host) with every collective and
//    transfer whose bottleneck is there (all-reduces, MoE dispatches and combines, attention/FFN
//    hops, pipeline sends; prefill/decode KV transfers on the decode pool's; the KV hierarchy's
//    host copies and SSD I/O on the host tier's), named by op or role, with their bytes. Below
//    `kernel` fidelity a step's collectives are one slice per group and tier (TraceCollectives::
//    kPerStep: from the first one's start to the last one's end, with their count, bytes and
//    busy time; a TP step has two all-reduces per layer, and a slice each made writing the file
//    cost more than the simulation) unless kEach is asked for; at `kernel` fidelity each one;
//  * counters per instance: running and queued sequences, KV blocks in use, and each tier's
//    GB/s and utilisation (of the instance's links of that tier) over the step that just ended;
// and each request as an async slice from arrival to its last token with a nested "waiting for
// the first token" slice. A time window keeps files small on long runs. Pure C++: the
// simulation hands it steps and requests (engine/instance.h observers) and the runners' activities
// (engine/step_activity.h). The same seed gives the same bytes.
//
// Recording only copies each event's numbers (engine/trace_event_text.h); with an output stream,
// a writer thread turns batches of them into JSON text and writes it as the run goes, so the
// simulation does not wait on the text and memory stays flat however long the run (a bounded
// queue: the run waits when the writer is that far behind). Without one, Text() returns it.
#pragma once

#include <array>
#include <iosfwd>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/instance.h"
#include "engine/step_activity.h"
#include "engine/trace_event_text.h"

namespace moesim {

// How collectives appear at `step` and `layer` fidelity (at `kernel` fidelity: each one, beside
// the kernels).
enum class TraceCollectives { kPerStep, kEach };

class TraceRecorder {
 public:
  // Events outside [start_s, end_s] are dropped. With `out`, the file's text goes there as the
  // run goes (Finish() ends it); without, Text() returns it.
  TraceRecorder(double start_s, double end_s, std::ostream* out = nullptr,
                TraceCollectives collectives = TraceCollectives::kPerStep);
  // Stops the writer thread (after writing what it was handed) if Finish() has not.
  ~TraceRecorder();

  // The observer of pool `pool` (named `name`) to hand its instances; it lives as long as the
  // recorder.
  // `tier_capacity`: one instance's link bandwidth per tier, B/s (its utilisation counters).
  StepObserver* PoolObserver(int pool, const std::string& name,
                             const std::array<double, 4>& tier_capacity);
  // The sink of pool `pool`'s step runners (engine/step_activity.h); lives as long as the
  // recorder.
  // `kernel_fidelity`: the run traces each kernel, so each collective too.
  StepActivitySink* ActivitySink(int pool, bool kernel_fidelity);

  // Without an output stream: the trace file's text,
  // {"displayTimeUnit": "ms", "traceEvents": [...]}.
  std::string Text() const;
  // With one: writes everything recorded and the closing brackets, and stops the writer thread;
  // false if the stream failed. Nothing may be recorded after it.
  bool Finish();

 private:
  class Observer;
  class Sink;
  class Writer;
  void Step(int pool, int instance, const StepRecord& s, const TimeBreakdown& gpu_time,
            const std::array<double, 4>* tier_capacity);
  void Activity(int pool, const StepActivity& a);
  // A named track (thread) of `pool`, declared once.
  void Track(int pool, int tid, const std::string& name);
  void Finished(const Request& r);
  // A new event at the end of the batch (handed to the writer once the batch is full: after
  // the caller has filled it in, at the next NewEvent or Finish).
  TraceEvent& NewEvent(TraceEvent::Kind kind);
  // NewEvent with a detail record, returned.
  TraceEventDetail& NewDetailedEvent(TraceEvent::Kind kind, TraceEvent** event);
  void AddMetadata(std::string fields);

  double start_s_, end_s_;
  TraceCollectives collectives_;
  std::vector<std::unique_ptr<Observer>> observers_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::set<std::pair<int, int>> tracks_;  // (pool, tid) declared
  std::unique_ptr<Writer> writer_;        // with an output stream
  TraceBatch batch_;                      // events not yet handed to the writer (or formatted)
  TraceEventText kept_;                   // without one: the text so far
};

}  // namespace moesim
