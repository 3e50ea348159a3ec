#include "engine/trace_recorder.h"

#include <charconv>
#include <cmath>
#include <ostream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace moesim {

namespace {

// Track ids inside a pool's process: instances from 0, link tiers and GPUs above them.
constexpr int kTierTrack = 1000000;
constexpr int kGpuTrack = 2000000;
constexpr const char* kTierNames[4] = {"scale_up", "scale_out", "inter_rack", "host"};
// With an output stream, events are written once this many bytes have gathered.
constexpr size_t kWriteBlockBytes = size_t(1) << 20;
constexpr std::string_view kHead = R"({"displayTimeUnit":"ms","traceEvents":[)";
constexpr std::string_view kTail =
    R"({"ph":"M","name":"process_name","pid":-1,"args":{"name":"requests"}}]})"
    "\n";

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

TraceRecorder::TraceRecorder(double start_s, double end_s, std::ostream* out)
    : start_s_(start_s), end_s_(end_s), out_(out) {
  if (out_ != nullptr) {
    *out_ << kHead;
    events_.reserve(kWriteBlockBytes + 4096);
  }
}
TraceRecorder::~TraceRecorder() = default;

void TraceRecorder::Open() {
  if (any_event_) events_ += ",\n";
  any_event_ = true;
  events_ += '{';
}

void TraceRecorder::Close() {
  events_ += '}';
  if (out_ != nullptr && events_.size() >= kWriteBlockBytes) {
    out_->write(events_.data(), static_cast<std::streamsize>(events_.size()));
    events_.clear();
  }
}

void TraceRecorder::Put(std::string_view text) { events_.append(text); }

void TraceRecorder::PutInt(int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  events_.append(buf, static_cast<size_t>(r.ptr - buf));
}

// Trace-event timestamps are microseconds, written to the nanosecond so the text is stable: the
// digits of the whole nanoseconds with a point before the last three, which is what "%.3f" prints
// for nanoseconds / 1e3.
void TraceRecorder::PutUs(double seconds) {
  int64_t ns = std::llround(seconds * 1e9);
  if (ns < 0) {
    events_ += '-';
    ns = -ns;
  }
  PutInt(ns / 1000);
  char frac[4] = {'.', char('0' + ns % 1000 / 100), char('0' + ns % 100 / 10), char('0' + ns % 10)};
  events_.append(frac, sizeof frac);
}

// "%.17g": a whole number below 1e17 prints as its digits, anything else through to_chars.
void TraceRecorder::PutG17(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e17 && !(v == 0 && std::signbit(v))) {
    PutInt(static_cast<int64_t>(v));
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 17);
  events_.append(buf, static_cast<size_t>(r.ptr - buf));
}

// A JSON string literal (escaped by the JSON library only when it needs escaping).
void TraceRecorder::PutQuoted(std::string_view text) {
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
      events_ += nlohmann::json(std::string(text)).dump();
      return;
    }
  }
  events_ += '"';
  events_.append(text);
  events_ += '"';
}

StepObserver* TraceRecorder::PoolObserver(int pool, const std::string& name,
                                          const std::array<double, 4>& tier_capacity) {
  Open();
  Put(R"("ph":"M","name":"process_name","pid":)");
  PutInt(pool);
  Put(R"(,"args":{"name":)");
  PutQuoted("pool " + name);
  Put("}");
  Close();
  observers_.push_back(std::make_unique<Observer>(this, pool, tier_capacity));
  return observers_.back().get();
}

StepActivitySink* TraceRecorder::ActivitySink(int pool) {
  sinks_.push_back(std::make_unique<Sink>(this, pool));
  return sinks_.back().get();
}

void TraceRecorder::Track(int pool, int tid, const std::string& name) {
  if (!tracks_.insert({pool, tid}).second) return;
  Open();
  Put(R"("ph":"M","name":"thread_name","pid":)");
  PutInt(pool);
  Put(R"(,"tid":)");
  PutInt(tid);
  Put(R"(,"args":{"name":)");
  PutQuoted(name);
  Put("}");
  Close();
}

void TraceRecorder::Activity(int pool, const StepActivity& a) {
  if (a.end_s < start_s_ || a.start_s > end_s_) return;
  const bool kernel = a.kind == StepActivity::Kind::kKernel;
  const int tid = kernel ? kGpuTrack + a.first_gpu : kTierTrack + a.tier;
  if (tracks_.count({pool, tid}) == 0) {
    Track(pool, tid,
          kernel ? absl::StrCat("GPU ", a.first_gpu)
                 : absl::StrCat("link tier ", kTierNames[a.tier]));
  }
  Open();
  Put(R"("ph":"X","name":)");
  PutQuoted(a.name);
  Put(kernel ? R"(,"cat":"kernel","pid":)" : R"(,"cat":"communication","pid":)");
  PutInt(pool);
  Put(R"(,"tid":)");
  PutInt(tid);
  Put(R"(,"ts":)");
  PutUs(a.start_s);
  Put(R"(,"dur":)");
  PutUs(a.end_s - a.start_s);
  if (!kernel) {
    Put(R"(,"args":{"bytes":)");
    PutG17(a.bytes);
    Put(R"(,"from_gpu":)");
    PutInt(a.first_gpu);
    Put("}");
  }
  Close();
}

void TraceRecorder::Step(int pool, int instance, const StepRecord& s, const TimeBreakdown& gpu_time,
                         const std::array<double, 4>& tier_capacity) {
  if (s.end_s < start_s_ || s.start_s > end_s_) return;
  Track(pool, instance, absl::StrCat("instance ", instance));
  Open();
  Put(R"("ph":"X","name":"step","cat":"step","pid":)");
  PutInt(pool);
  Put(R"(,"tid":)");
  PutInt(instance);
  Put(R"(,"ts":)");
  PutUs(s.start_s);
  Put(R"(,"dur":)");
  PutUs(s.end_s - s.start_s);
  Put(R"(,"args":{"tokens":)");
  PutInt(s.tokens);
  Put(R"(,"output_tokens":)");
  PutInt(s.output_tokens);
  Put(R"(,"running":)");
  PutInt(s.running);
  Put(R"(,"queued":)");
  PutInt(s.waiting);
  Put("}");
  Close();
  // A counter event of the instance at the step's end: its name, then its arguments.
  auto counter = [&](std::string_view name) {
    Open();
    Put(R"("ph":"C","name":")");
    Put(name);
    PutInt(instance);
    Put(R"(","pid":)");
    PutInt(pool);
    Put(R"(,"ts":)");
    PutUs(s.end_s);
    Put(R"(,"args":{)");
  };
  counter("instance ");
  Put(R"("running":)");
  PutInt(s.running);
  Put(R"(,"queued":)");
  PutInt(s.waiting);
  Put(R"(,"kv_blocks_in_use":)");
  PutInt(s.kv_used_blocks);
  Put("}");
  Close();
  // Each tier's payload bytes over the step, as GB/s and as a share of the instance's links of
  // that tier (one counter series per tier each).
  const double d = s.end_s > s.start_s ? s.end_s - s.start_s : 1.0;
  for (const bool share : {false, true}) {
    counter(share ? "link utilisation, instance " : "fabric GB/s, instance ");
    for (int t = 0; t < 4; ++t) {
      const double rate = gpu_time.tier_bytes[t] / d;
      Put(t > 0 ? R"(,")" : R"(")");
      Put(kTierNames[t]);
      Put(R"(":)");
      if (share) {
        PutG17(tier_capacity[t] > 0 ? rate / tier_capacity[t] : 0.0);
      } else {
        PutG17(rate / 1e9);
      }
    }
    Put("}");
    Close();
  }
}

void TraceRecorder::Finished(const Request& r) {
  if (!r.finish_s || *r.finish_s < start_s_ || r.arrival_s > end_s_) return;
  const double first = r.first_token_s.value_or(*r.finish_s);
  // Async slices on the "requests" track of process -1 (all pools).
  auto slice = [&](std::string_view phase_and_name, double at) {
    Open();
    Put(phase_and_name);
    Put(R"(,"cat":"request","id":)");
    PutInt(r.id);
    Put(R"(,"pid":-1,"tid":0,"ts":)");
    PutUs(at);
  };
  slice(R"("ph":"b","name":"request")", r.arrival_s);
  Put(R"(,"args":{"input_tokens":)");
  PutInt(r.input_tokens);
  Put(R"(,"output_tokens":)");
  PutInt(r.output_tokens);
  Put(R"(,"preemptions":)");
  PutInt(r.preemptions);
  Put("}");
  Close();
  slice(R"("ph":"b","name":"until first token")", r.arrival_s);
  Close();
  slice(R"("ph":"e","name":"until first token")", first);
  Close();
  slice(R"("ph":"e","name":"request")", *r.finish_s);
  Close();
}

std::string TraceRecorder::Text() const {
  std::string out(kHead);
  out.reserve(events_.size() + 128);
  out += events_;
  if (any_event_) out += ",\n";
  out.append(kTail);
  return out;
}

bool TraceRecorder::Finish() {
  if (out_ == nullptr) return false;
  if (any_event_) events_ += ",\n";
  events_.append(kTail);
  out_->write(events_.data(), static_cast<std::streamsize>(events_.size()));
  events_.clear();
  out_->flush();
  return static_cast<bool>(*out_);
}

}  // namespace moesim
