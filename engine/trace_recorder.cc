#include "engine/trace_recorder.h"

#include <cmath>

namespace moesim {

namespace {

// Trace-event timestamps are microseconds; rounded to the nanosecond so the text is stable.
double Us(double s) { return std::round(s * 1e9) / 1e3; }

}  // namespace

class TraceRecorder::Observer : public StepObserver {
 public:
  Observer(TraceRecorder* r, int pool) : r_(r), pool_(pool) {}
  void OnStep(int instance, const StepRecord& step, const TimeBreakdown&) override {
    r_->Step(pool_, instance, step);
  }
  void OnRequestFinished(const Request& request) override { r_->Finished(request); }

 private:
  TraceRecorder* r_;
  int pool_;
};

TraceRecorder::TraceRecorder(double start_s, double end_s) : start_s_(start_s), end_s_(end_s) {}
TraceRecorder::~TraceRecorder() = default;

StepObserver* TraceRecorder::PoolObserver(int pool, const std::string& name) {
  events_.push_back(
      {{"ph", "M"}, {"name", "process_name"}, {"pid", pool}, {"args", {{"name", "pool " + name}}}});
  observers_.push_back(std::make_unique<Observer>(this, pool));
  return observers_.back().get();
}

void TraceRecorder::Step(int pool, int instance, const StepRecord& s) {
  if (s.end_s < start_s_ || s.start_s > end_s_) return;
  events_.push_back({{"ph", "X"},
                     {"name", "step"},
                     {"cat", "step"},
                     {"pid", pool},
                     {"tid", instance},
                     {"ts", Us(s.start_s)},
                     {"dur", Us(s.end_s - s.start_s)},
                     {"args",
                      {{"tokens", s.tokens},
                       {"output_tokens", s.output_tokens},
                       {"running", s.running},
                       {"queued", s.waiting}}}});
  events_.push_back(
      {{"ph", "C"},
       {"name", "instance " + std::to_string(instance)},
       {"pid", pool},
       {"ts", Us(s.end_s)},
       {"args",
        {{"running", s.running}, {"queued", s.waiting}, {"kv_blocks_in_use", s.kv_used_blocks}}}});
}

void TraceRecorder::Finished(const Request& r) {
  if (!r.finish_s || *r.finish_s < start_s_ || r.arrival_s > end_s_) return;
  const double first = r.first_token_s.value_or(*r.finish_s);
  const nlohmann::json args = {{"input_tokens", r.input_tokens},
                               {"output_tokens", r.output_tokens},
                               {"preemptions", r.preemptions}};
  // Async slices on the "requests" track of process -1 (all pools).
  events_.push_back({{"ph", "b"},
                     {"cat", "request"},
                     {"name", "request"},
                     {"id", r.id},
                     {"pid", -1},
                     {"tid", 0},
                     {"ts", Us(r.arrival_s)},
                     {"args", args}});
  events_.push_back({{"ph", "b"},
                     {"cat", "request"},
                     {"name", "until first token"},
                     {"id", r.id},
                     {"pid", -1},
                     {"tid", 0},
                     {"ts", Us(r.arrival_s)}});
  events_.push_back({{"ph", "e"},
                     {"cat", "request"},
                     {"name", "until first token"},
                     {"id", r.id},
                     {"pid", -1},
                     {"tid", 0},
                     {"ts", Us(first)}});
  events_.push_back({{"ph", "e"},
                     {"cat", "request"},
                     {"name", "request"},
                     {"id", r.id},
                     {"pid", -1},
                     {"tid", 0},
                     {"ts", Us(*r.finish_s)}});
}

nlohmann::json TraceRecorder::ToJson() const {
  nlohmann::json events = events_;
  events.push_back(
      {{"ph", "M"}, {"name", "process_name"}, {"pid", -1}, {"args", {{"name", "requests"}}}});
  return {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

}  // namespace moesim
