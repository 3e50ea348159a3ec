#include "engine/trace_event_text.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

namespace moesim {

std::string TraceEventText::Quoted(std::string_view text) {
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
      return nlohmann::json(std::string(text)).dump();
    }
  }
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  out.append(text);
  out += '"';
  return out;
}

void TraceEventText::PutQuoted(std::string_view text) {
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
      Put(Quoted(text));
      return;
    }
  }
  Put('"');
  Put(text);
  Put('"');
}

void TraceEventText::Open() {
  if (any_) Put(",\n");
  any_ = true;
  Put('{');
}

void TraceEventText::PutInt(int64_t v) {
  Reserve(24);
  char* at = buf_.data() + size_;
  size_ += static_cast<size_t>(std::to_chars(at, at + 24, v).ptr - at);
}

// Microseconds to the nanosecond: the digits of the whole nanoseconds with a point before the
// last three, which is what "%.3f" prints for nanoseconds / 1e3.
void TraceEventText::PutUs(double seconds) {
  int64_t ns = std::llround(seconds * 1e9);
  if (ns < 0) {
    Put('-');
    ns = -ns;
  }
  PutInt(ns / 1000);
  const char frac[4] = {'.', char('0' + ns % 1000 / 100), char('0' + ns % 100 / 10),
                        char('0' + ns % 10)};
  Put(std::string_view(frac, sizeof frac));
}

// "%.17g": a whole number below 1e17 prints as its digits, anything else through to_chars.
void TraceEventText::PutG17(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e17 && !(v == 0 && std::signbit(v))) {
    PutInt(static_cast<int64_t>(v));
    return;
  }
  Reserve(64);
  char* at = buf_.data() + size_;
  size_ +=
      static_cast<size_t>(std::to_chars(at, at + 64, v, std::chars_format::general, 17).ptr - at);
}

void TraceEventText::Append(const TraceBatch& batch) {
  for (const TraceEvent& e : batch.events) Append(e, batch);
}

void TraceEventText::Append(const TraceEvent& e, const TraceBatch& batch) {
  switch (e.kind) {
    case TraceEvent::Kind::kMetadata:
      Open();
      Put(batch.texts[static_cast<size_t>(e.detail)]);
      Put('}');
      return;
    case TraceEvent::Kind::kStep:
      Step(e, batch.details[static_cast<size_t>(e.detail)]);
      return;
    case TraceEvent::Kind::kRequest:
      Request(e, batch.details[static_cast<size_t>(e.detail)]);
      return;
    case TraceEvent::Kind::kKernel:
    case TraceEvent::Kind::kCommunication:
      break;
  }
  const bool kernel = e.kind == TraceEvent::Kind::kKernel;
  Open();
  // The text up to the timestamp is the same for every slice of one op on one track.
  const SliceKey key{e.name, kernel, e.pool, e.tid};
  auto it = slice_heads_.find(key);
  if (it == slice_heads_.end()) {
    const size_t from = size_;
    Put(R"("ph":"X","name":)");
    PutQuoted(e.name);
    Put(kernel ? R"(,"cat":"kernel","pid":)" : R"(,"cat":"communication","pid":)");
    PutInt(e.pool);
    Put(R"(,"tid":)");
    PutInt(e.tid);
    Put(R"(,"ts":)");
    it = slice_heads_.emplace(key, std::string(buf_.data() + from, size_ - from)).first;
  } else {
    Put(it->second);
  }
  PutUs(e.start_s);
  Put(R"(,"dur":)");
  PutUs(e.end_s - e.start_s);
  if (!kernel) {
    Put(R"(,"args":{"bytes":)");
    PutG17(e.bytes);
    Put(R"(,"from_gpu":)");
    PutInt(e.first_gpu);
    if (e.count > 1) {
      Put(R"(,"collectives":)");
      PutInt(e.count);
      Put(R"(,"busy_us":)");
      PutUs(e.busy_s);
    }
    Put('}');
  }
  Put('}');
}

void TraceEventText::PutRunningQueued(int64_t running, int64_t queued) {
  Put(R"("running":)");
  PutInt(running);
  Put(R"(,"queued":)");
  PutInt(queued);
}

void TraceEventText::Step(const TraceEvent& e, const TraceEventDetail& d) {
  const auto& [tokens, output_tokens, running, queued, kv_blocks] = d.counts;
  Open();
  Put(R"("ph":"X","name":"step","cat":"step","pid":)");
  PutInt(e.pool);
  Put(R"(,"tid":)");
  PutInt(e.tid);
  Put(R"(,"ts":)");
  PutUs(e.start_s);
  Put(R"(,"dur":)");
  PutUs(e.end_s - e.start_s);
  Put(R"(,"args":{"tokens":)");
  PutInt(tokens);
  Put(R"(,"output_tokens":)");
  PutInt(output_tokens);
  Put(",");
  PutRunningQueued(running, queued);
  Put("}}");
  // A counter event of the instance at the step's end: its name, then its arguments.
  auto counter = [&](std::string_view name) {
    Open();
    Put(R"("ph":"C","name":")");
    Put(name);
    PutInt(e.tid);
    Put(R"(","pid":)");
    PutInt(e.pool);
    Put(R"(,"ts":)");
    PutUs(e.end_s);
    Put(R"(,"args":{)");
  };
  counter("instance ");
  PutRunningQueued(running, queued);
  Put(R"(,"kv_blocks_in_use":)");
  PutInt(kv_blocks);
  Put("}}");
  // Each tier's payload bytes over the step, as GB/s and as a share of the instance's links of
  // that tier (one counter series per tier each).
  const double span = e.end_s > e.start_s ? e.end_s - e.start_s : 1.0;
  for (const bool share : {false, true}) {
    counter(share ? "link utilisation, instance " : "fabric GB/s, instance ");
    for (int t = 0; t < 4; ++t) {
      const double rate = d.tier_bytes[t] / span;
      const double capacity = d.tier_capacity != nullptr ? (*d.tier_capacity)[t] : 0.0;
      Put(t > 0 ? R"(,")" : R"(")");
      Put(kTraceTierNames[t]);
      Put(R"(":)");
      PutG17(share ? (capacity > 0 ? rate / capacity : 0.0) : rate / 1e9);
    }
    Put("}}");
  }
}

// Async slices on the "requests" track of process -1 (all pools): the request from arrival to
// its last token, and inside it the wait for the first token.
void TraceEventText::Request(const TraceEvent& e, const TraceEventDetail& d) {
  auto slice = [&](std::string_view phase_and_name, double at) {
    Open();
    Put(phase_and_name);
    Put(R"(,"cat":"request","id":)");
    PutInt(d.counts[0]);
    Put(R"(,"pid":-1,"tid":0,"ts":)");
    PutUs(at);
  };
  slice(R"("ph":"b","name":"request")", e.start_s);
  Put(R"(,"args":{"input_tokens":)");
  PutInt(d.counts[1]);
  Put(R"(,"output_tokens":)");
  PutInt(d.counts[2]);
  Put(R"(,"preemptions":)");
  PutInt(d.counts[3]);
  Put("}}");
  slice(R"("ph":"b","name":"until first token")", e.start_s);
  Put('}');
  slice(R"("ph":"e","name":"until first token")", d.first_token_s);
  Put('}');
  slice(R"("ph":"e","name":"request")", e.end_s);
  Put('}');
}

}  // namespace moesim
