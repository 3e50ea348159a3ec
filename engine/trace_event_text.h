// One trace event as the run hands it over (plain numbers, no text yet) and its Chrome
// trace-event JSON text (engine/trace_recorder.h writes the file). Formatting is kept apart
// from recording so that it can run on another thread: the recorder copies a TraceEvent in a
// few nanoseconds, the text costs a few hundred. Numbers are written with std::to_chars:
// timestamps and durations in microseconds to the nanosecond ("%.3f"), bytes and rates as
// "%.17g" prints them. The same events give the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace moesim {

// The link tiers' names in track and counter names, in LinkTier order.
inline constexpr const char* kTraceTierNames[4] = {"scale_up", "scale_out", "inter_rack", "host"};

struct TraceEvent {
  enum class Kind : uint8_t {
    kMetadata,       // texts[detail] of its batch: a process_name / thread_name event's fields
    kKernel,         // `name` on GPU track `tid`, [start_s, end_s]
    kCommunication,  // `name` on link-tier track `tid`, [start_s, end_s], `bytes`, `first_gpu`;
                     // `count` > 1: that many collectives merged, `busy_s` the seconds they ran
    kStep,           // instance `tid`'s step [start_s, end_s]; details[detail]: its counters
    kRequest,        // a request from arrival start_s to finish end_s; details[detail]: the rest
  };
  Kind kind = Kind::kMetadata;
  int pool = 0;
  int tid = 0;
  int first_gpu = 0;
  const char* name = "";  // kKernel / kCommunication: a string that outlives the recorder
  double start_s = 0;
  double end_s = 0;
  double bytes = 0;
  int64_t detail = 0;  // kMetadata, kStep, kRequest: the index of what else it carries
  int count = 1;       // kCommunication
  double busy_s = 0;   // kCommunication with count > 1
};

// What a step or a request event carries beyond the slice.
struct TraceEventDetail {
  // kStep: tokens, output tokens, running, queued, KV blocks in use; kRequest: its id, input
  // tokens, output tokens, preemptions.
  std::array<int64_t, 5> counts{};
  double first_token_s = 0;  // kRequest
  // kStep: each link tier's payload bytes over the step and one instance's bandwidth per tier
  // (B/s; a pointer to the pool's, which lives until the event is formatted).
  std::array<double, 4> tier_bytes{};
  const std::array<double, 4>* tier_capacity = nullptr;
};

// Events in the order they happened (the many slices small), what the few others carry, and the
// metadata events' texts.
struct TraceBatch {
  std::vector<TraceEvent> events;
  std::vector<TraceEventDetail> details;
  std::vector<std::string> texts;
};

// Appends events' JSON text, comma-separated, to a string.
class TraceEventText {
 public:
  static constexpr std::string_view kHead = R"({"displayTimeUnit":"ms","traceEvents":[)";
  // The closing event (the requests' process name) and brackets.
  static constexpr std::string_view kTail =
      R"({"ph":"M","name":"process_name","pid":-1,"args":{"name":"requests"}}]})"
      "\n";

  // A JSON string literal (escaped by the JSON library only when it needs escaping).
  static std::string Quoted(std::string_view text);

  void Append(const TraceBatch& batch);
  // The text so far (after kHead; the caller adds ",\n" + kTail when any() at the end), and
  // forgetting it (once written) while keeping its storage.
  std::string_view view() const { return std::string_view(buf_.data(), size_); }
  void clear() { size_ = 0; }
  bool any() const { return any_; }

 private:
  // Room for `n` more bytes.
  void Reserve(size_t n) {
    if (buf_.size() - size_ < n) buf_.resize(2 * (size_ + n));
  }
  void Put(std::string_view s) {
    Reserve(s.size());
    std::memcpy(buf_.data() + size_, s.data(), s.size());
    size_ += s.size();
  }
  void Put(char c) {
    Reserve(1);
    buf_[size_++] = c;
  }
  void Open();  // an event's "{", after ",\n" when one came before
  void PutInt(int64_t v);
  void PutUs(double seconds);
  void PutG17(double v);
  void PutQuoted(std::string_view text);
  void PutRunningQueued(int64_t running, int64_t queued);  // "running":N,"queued":M
  void Append(const TraceEvent& e, const TraceBatch& batch);
  void Step(const TraceEvent& e, const TraceEventDetail& d);
  void Request(const TraceEvent& e, const TraceEventDetail& d);

  std::string buf_;  // the text in [0, size_), room after it
  size_t size_ = 0;
  bool any_ = false;
  // Kernel and communication slices' text before the timestamp, by (op name, kernel, pool, tid).
  using SliceKey = std::tuple<const char*, bool, int, int>;
  std::map<SliceKey, std::string> slice_heads_;
};

}  // namespace moesim
