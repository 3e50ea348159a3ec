#include "engine/trace_recorder.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace moesim {

namespace {

// Track ids inside a pool's process: instances from 0, link tiers and GPUs above them.
constexpr int kTierTrack = 1000000;
constexpr int kGpuTrack = 2000000;
// Events per batch handed to the writer thread, and batches it may be behind before the run
// waits for it: a batch is 4,096 x 56 B = 230 KB of events (about 600 KB of text), so the queue
// holds under 4 MB; chosen for bounded memory, not fitted (a 64-batch queue measured no faster
// with tools/bench/bench_outputs.sh).
constexpr size_t kBatchEvents = 4096;
constexpr size_t kMaxQueuedBatches = 16;

}  // namespace

class TraceRecorder::Observer : public StepObserver {
 public:
  Observer(TraceRecorder* r, int pool, const std::array<double, 4>& capacity)
      : r_(r), pool_(pool), capacity_(capacity) {}
  void OnStep(int instance, const StepRecord& step, const TimeBreakdown& gpu_time) override {
    r_->Step(pool_, instance, step, gpu_time, &capacity_);
  }
  void OnRequestFinished(const Request& request) override { r_->Finished(request); }

 private:
  TraceRecorder* r_;
  int pool_;
  std::array<double, 4> capacity_;
};

class TraceRecorder::Sink : public StepActivitySink {
 public:
  Sink(TraceRecorder* r, int pool, bool merge) : r_(r), pool_(pool), merge_(merge) {}
  void OnActivity(const StepActivity& a) override { r_->Activity(pool_, a); }
  bool MergesCollectives() const override { return merge_; }

 private:
  TraceRecorder* r_;
  int pool_;
  bool merge_;
};

// Formats batches of events on its own thread and writes them to the stream in order.
class TraceRecorder::Writer {
 public:
  explicit Writer(std::ostream* out) : out_(out) {
    *out_ << TraceEventText::kHead;
    thread_ = std::thread([this] { Loop(); });
  }
  ~Writer() { Close(); }

  // Hands `batch` over (waiting while the writer is kMaxQueuedBatches behind) and returns an
  // empty one to fill next: a written batch's storage when there is one, so memory is reused.
  TraceBatch Submit(TraceBatch batch) {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [this] { return queue_.size() < kMaxQueuedBatches; });
    queue_.push_back(std::move(batch));
    ready_.notify_one();
    TraceBatch next;
    if (!written_.empty()) {
      next = std::move(written_.back());
      written_.pop_back();
    }
    return next;
  }

  // Writes everything handed over and the closing brackets; false if the stream failed.
  bool Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return ok_;
      closed_ = true;
    }
    ready_.notify_one();
    thread_.join();
    return ok_;
  }

 private:
  void Loop() {
    TraceEventText text;
    for (;;) {
      TraceBatch batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return !queue_.empty() || closed_; });
        if (queue_.empty()) break;
        batch = std::move(queue_.front());
        queue_.pop_front();
        space_.notify_one();
      }
      text.Append(batch);
      out_->write(text.view().data(), static_cast<std::streamsize>(text.view().size()));
      text.clear();
      batch.events.clear();
      batch.details.clear();
      batch.texts.clear();
      std::lock_guard<std::mutex> lock(mu_);
      if (written_.size() < kMaxQueuedBatches) written_.push_back(std::move(batch));
    }
    if (text.any()) *out_ << ",\n";
    *out_ << TraceEventText::kTail;
    out_->flush();
    ok_ = static_cast<bool>(*out_);
  }

  std::ostream* out_;
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<TraceBatch> queue_;
  std::vector<TraceBatch> written_;  // emptied batches whose storage the recorder reuses
  bool closed_ = false;
  bool ok_ = false;  // written by the thread before it ends, read after the join
  std::thread thread_;
};

TraceRecorder::TraceRecorder(double start_s, double end_s, std::ostream* out,
                             TraceCollectives collectives)
    : start_s_(start_s), end_s_(end_s), collectives_(collectives) {
  if (out != nullptr) writer_ = std::make_unique<Writer>(out);
  batch_.events.reserve(kBatchEvents + 1);
}

TraceRecorder::~TraceRecorder() = default;

TraceEvent& TraceRecorder::NewEvent(TraceEvent::Kind kind) {
  if (batch_.events.size() >= kBatchEvents) {
    if (writer_) {
      batch_ = writer_->Submit(std::move(batch_));
    } else {
      kept_.Append(batch_);
      batch_ = TraceBatch();
    }
    batch_.events.reserve(kBatchEvents + 1);
  }
  TraceEvent& e = batch_.events.emplace_back();
  e.kind = kind;
  return e;
}

TraceEventDetail& TraceRecorder::NewDetailedEvent(TraceEvent::Kind kind, TraceEvent** event) {
  TraceEvent& e = NewEvent(kind);
  e.detail = static_cast<int64_t>(batch_.details.size());
  *event = &e;
  return batch_.details.emplace_back();
}

void TraceRecorder::AddMetadata(std::string fields) {
  TraceEvent& e = NewEvent(TraceEvent::Kind::kMetadata);
  e.detail = static_cast<int64_t>(batch_.texts.size());
  batch_.texts.push_back(std::move(fields));
}

StepObserver* TraceRecorder::PoolObserver(int pool, const std::string& name,
                                          const std::array<double, 4>& tier_capacity) {
  AddMetadata(absl::StrCat(R"("ph":"M","name":"process_name","pid":)", pool, R"(,"args":{"name":)",
                           TraceEventText::Quoted("pool " + name), "}"));
  observers_.push_back(std::make_unique<Observer>(this, pool, tier_capacity));
  return observers_.back().get();
}

StepActivitySink* TraceRecorder::ActivitySink(int pool, bool kernel_fidelity) {
  const bool merge = !kernel_fidelity && collectives_ == TraceCollectives::kPerStep;
  sinks_.push_back(std::make_unique<Sink>(this, pool, merge));
  return sinks_.back().get();
}

void TraceRecorder::Track(int pool, int tid, const std::string& name) {
  if (!tracks_.insert({pool, tid}).second) return;
  AddMetadata(absl::StrCat(R"("ph":"M","name":"thread_name","pid":)", pool, R"(,"tid":)", tid,
                           R"(,"args":{"name":)", TraceEventText::Quoted(name), "}"));
}

void TraceRecorder::Activity(int pool, const StepActivity& a) {
  if (a.end_s < start_s_ || a.start_s > end_s_) return;
  const bool kernel = a.kind == StepActivity::Kind::kKernel;
  const int tid = kernel ? kGpuTrack + a.first_gpu : kTierTrack + a.tier;
  if (tracks_.count({pool, tid}) == 0) {
    Track(pool, tid,
          kernel ? absl::StrCat("GPU ", a.first_gpu)
                 : absl::StrCat("link tier ", kTraceTierNames[a.tier]));
  }
  TraceEvent& e = NewEvent(kernel ? TraceEvent::Kind::kKernel : TraceEvent::Kind::kCommunication);
  e.name = a.name;
  e.pool = pool;
  e.tid = tid;
  e.first_gpu = a.first_gpu;
  e.start_s = a.start_s;
  e.end_s = a.end_s;
  e.bytes = a.bytes;
  e.count = a.count;
  e.busy_s = a.busy_s;
}

void TraceRecorder::Step(int pool, int instance, const StepRecord& s, const TimeBreakdown& gpu_time,
                         const std::array<double, 4>* tier_capacity) {
  if (s.end_s < start_s_ || s.start_s > end_s_) return;
  Track(pool, instance, absl::StrCat("instance ", instance));
  TraceEvent* e = nullptr;
  TraceEventDetail& d = NewDetailedEvent(TraceEvent::Kind::kStep, &e);
  e->pool = pool;
  e->tid = instance;
  e->start_s = s.start_s;
  e->end_s = s.end_s;
  d.counts = {s.tokens, s.output_tokens, s.running, s.waiting, s.kv_used_blocks};
  for (int t = 0; t < 4; ++t) d.tier_bytes[t] = gpu_time.tier_bytes[t];
  d.tier_capacity = tier_capacity;
}

void TraceRecorder::Finished(const Request& r) {
  if (!r.finish_s || *r.finish_s < start_s_ || r.arrival_s > end_s_) return;
  TraceEvent* e = nullptr;
  TraceEventDetail& d = NewDetailedEvent(TraceEvent::Kind::kRequest, &e);
  e->start_s = r.arrival_s;
  e->end_s = *r.finish_s;
  d.counts = {r.id, r.input_tokens, r.output_tokens, r.preemptions, 0};
  d.first_token_s = r.first_token_s.value_or(*r.finish_s);
}

std::string TraceRecorder::Text() const {
  TraceEventText text = kept_;
  text.Append(batch_);
  std::string out(TraceEventText::kHead);
  out += text.view();
  if (text.any()) out += ",\n";
  out.append(TraceEventText::kTail);
  return out;
}

bool TraceRecorder::Finish() {
  if (!writer_) return false;
  batch_ = writer_->Submit(std::move(batch_));
  return writer_->Close();
}

}  // namespace moesim
