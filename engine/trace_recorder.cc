#include "engine/trace_recorder.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace moesim {

namespace {

// Trace-event timestamps are microseconds, written to the nanosecond so the text is stable.
std::string Us(double s) { return absl::StrFormat("%.3f", std::round(s * 1e9) / 1e3); }

// A JSON string literal (escaped by the JSON library only when it needs escaping).
std::string Quote(const std::string& text) {
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return nlohmann::json(text).dump();
  }
  return absl::StrCat("\"", text, "\"");
}

// Track ids inside a pool's process: instances from 0, link tiers and GPUs above them.
constexpr int kTierTrack = 1000000;
constexpr int kGpuTrack = 2000000;
constexpr const char* kTierNames[4] = {"scale_up", "scale_out", "inter_rack", "host"};

}  // namespace

class TraceRecorder::Observer : public StepObserver {
 public:
  Observer(TraceRecorder* r, int pool, const std::array<double, 4>& capacity)
      : r_(r), pool_(pool), capacity_(capacity) {}
  void OnStep(int instance, const StepRecord& step, const TimeBreakdown& gpu_time) override {
    r_->Step(pool_, instance, step, gpu_time, capacity_);
  }
  void OnRequestFinished(const Request& request) override { r_->Finished(request); }

 private:
  TraceRecorder* r_;
  int pool_;
  std::array<double, 4> capacity_;
};

class TraceRecorder::Sink : public StepActivitySink {
 public:
  Sink(TraceRecorder* r, int pool) : r_(r), pool_(pool) {}
  void OnActivity(const StepActivity& a) override { r_->Activity(pool_, a); }

 private:
  TraceRecorder* r_;
  int pool_;
};

TraceRecorder::TraceRecorder(double start_s, double end_s) : start_s_(start_s), end_s_(end_s) {}
TraceRecorder::~TraceRecorder() = default;

void TraceRecorder::Event(const std::string& fields) {
  if (!events_.empty()) events_ += ",\n";
  absl::StrAppend(&events_, "{", fields, "}");
}

StepObserver* TraceRecorder::PoolObserver(int pool, const std::string& name,
                                          const std::array<double, 4>& tier_capacity) {
  Event(absl::StrCat(R"("ph":"M","name":"process_name","pid":)", pool, R"(,"args":{"name":)",
                     Quote("pool " + name), "}"));
  observers_.push_back(std::make_unique<Observer>(this, pool, tier_capacity));
  return observers_.back().get();
}

StepActivitySink* TraceRecorder::ActivitySink(int pool) {
  sinks_.push_back(std::make_unique<Sink>(this, pool));
  return sinks_.back().get();
}

void TraceRecorder::Track(int pool, int tid, const std::string& name) {
  if (!tracks_.insert({pool, tid}).second) return;
  Event(absl::StrCat(R"("ph":"M","name":"thread_name","pid":)", pool, R"(,"tid":)", tid,
                     R"(,"args":{"name":)", Quote(name), "}"));
}

void TraceRecorder::Activity(int pool, const StepActivity& a) {
  if (a.end_s < start_s_ || a.start_s > end_s_) return;
  const bool kernel = a.kind == StepActivity::Kind::kKernel;
  const int tid = kernel ? kGpuTrack + a.first_gpu : kTierTrack + a.tier;
  Track(
      pool, tid,
      kernel ? absl::StrCat("GPU ", a.first_gpu) : absl::StrCat("link tier ", kTierNames[a.tier]));
  std::string e =
      absl::StrCat(R"("ph":"X","name":)", Quote(a.name), R"(,"cat":")",
                   kernel ? "kernel" : "communication", R"(","pid":)", pool, R"(,"tid":)", tid,
                   R"(,"ts":)", Us(a.start_s), R"(,"dur":)", Us(a.end_s - a.start_s));
  if (!kernel) {
    absl::StrAppend(&e, R"(,"args":{"bytes":)", absl::StrFormat("%.17g", a.bytes),
                    R"(,"from_gpu":)", a.first_gpu, "}");
  }
  Event(e);
}

void TraceRecorder::Step(int pool, int instance, const StepRecord& s, const TimeBreakdown& gpu_time,
                         const std::array<double, 4>& tier_capacity) {
  if (s.end_s < start_s_ || s.start_s > end_s_) return;
  Track(pool, instance, absl::StrCat("instance ", instance));
  Event(absl::StrCat(R"("ph":"X","name":"step","cat":"step","pid":)", pool, R"(,"tid":)", instance,
                     R"(,"ts":)", Us(s.start_s), R"(,"dur":)", Us(s.end_s - s.start_s),
                     R"(,"args":{"tokens":)", s.tokens, R"(,"output_tokens":)", s.output_tokens,
                     R"(,"running":)", s.running, R"(,"queued":)", s.waiting, "}"));
  Event(absl::StrCat(R"("ph":"C","name":"instance )", instance, R"(","pid":)", pool, R"(,"ts":)",
                     Us(s.end_s), R"(,"args":{"running":)", s.running, R"(,"queued":)", s.waiting,
                     R"(,"kv_blocks_in_use":)", s.kv_used_blocks, "}"));
  // Each tier's payload bytes over the step, as GB/s and as a share of the instance's links of
  // that tier (one counter series per tier each).
  const double d = s.end_s > s.start_s ? s.end_s - s.start_s : 1.0;
  std::string load, use;
  for (int t = 0; t < 4; ++t) {
    const double rate = gpu_time.tier_bytes[t] / d;
    const double share = tier_capacity[t] > 0 ? rate / tier_capacity[t] : 0.0;
    absl::StrAppend(&load, t > 0 ? "," : "", "\"", kTierNames[t],
                    "\":", absl::StrFormat("%.17g", rate / 1e9));
    absl::StrAppend(&use, t > 0 ? "," : "", "\"", kTierNames[t],
                    "\":", absl::StrFormat("%.17g", share));
  }
  Event(absl::StrCat(R"("ph":"C","name":"fabric GB/s, instance )", instance, R"(","pid":)", pool,
                     R"(,"ts":)", Us(s.end_s), R"(,"args":{)", load, "}"));
  Event(absl::StrCat(R"("ph":"C","name":"link utilisation, instance )", instance, R"(","pid":)",
                     pool, R"(,"ts":)", Us(s.end_s), R"(,"args":{)", use, "}"));
}

void TraceRecorder::Finished(const Request& r) {
  if (!r.finish_s || *r.finish_s < start_s_ || r.arrival_s > end_s_) return;
  const double first = r.first_token_s.value_or(*r.finish_s);
  // Async slices on the "requests" track of process -1 (all pools).
  const std::string common =
      absl::StrCat(R"(,"cat":"request","id":)", r.id, R"(,"pid":-1,"tid":0)");
  Event(absl::StrCat(R"("ph":"b","name":"request")", common, R"(,"ts":)", Us(r.arrival_s),
                     R"(,"args":{"input_tokens":)", r.input_tokens, R"(,"output_tokens":)",
                     r.output_tokens, R"(,"preemptions":)", r.preemptions, "}"));
  Event(
      absl::StrCat(R"("ph":"b","name":"until first token")", common, R"(,"ts":)", Us(r.arrival_s)));
  Event(absl::StrCat(R"("ph":"e","name":"until first token")", common, R"(,"ts":)", Us(first)));
  Event(absl::StrCat(R"("ph":"e","name":"request")", common, R"(,"ts":)", Us(*r.finish_s)));
}

std::string TraceRecorder::Text() const {
  std::string out = R"({"displayTimeUnit":"ms","traceEvents":[)";
  out.reserve(events_.size() + 128);
  absl::StrAppend(&out, events_, events_.empty() ? "" : ",\n",
                  R"({"ph":"M","name":"process_name","pid":-1,"args":{"name":"requests"}}]})",
                  "\n");
  return out;
}

}  // namespace moesim
