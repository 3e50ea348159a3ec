// engine/trace_recorder: the text written to a stream as the run goes equals the text kept in
// memory, numbers are written as "%.3f" (timestamps in us) and "%.17g" (bytes, rates) print them,
// and the window drops what falls outside it.
#include "engine/trace_recorder.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace moesim {
namespace {

// Feeds the same events to `r`: a pool, `steps` steps with a collective each, and a request.
void Feed(TraceRecorder& r, int steps) {
  StepObserver* obs = r.PoolObserver(0, "serve", {1e11, 5e10, 0, 0});
  StepActivitySink* sink = r.ActivitySink(0, /*kernel_fidelity=*/false);
  for (int i = 0; i < steps; ++i) {
    StepRecord s;
    s.start_s = 0.0123456789 * i;
    s.end_s = s.start_s + 0.0123456789;
    s.tokens = 64 + i;
    s.output_tokens = 64;
    s.running = 64;
    s.waiting = i;
    s.kv_used_blocks = 1000 + i;
    TimeBreakdown t;
    t.tier_bytes = {1.5e9 + i, 3.0e8 / 7.0, 0, 0};
    StepActivity a;
    a.kind = StepActivity::Kind::kCollective;
    a.name = "attn_allreduce";
    a.first_gpu = 8;
    a.tier = 1;
    a.start_s = s.start_s + 1e-4;
    a.end_s = a.start_s + 3.3e-5;
    a.bytes = i % 2 == 0 ? 911998976.0 : 1.0 / 3.0;
    sink->OnActivity(a);
    obs->OnStep(0, s, t);
  }
  Request q;
  q.id = 7;
  q.arrival_s = 0.001;
  q.first_token_s = 0.05;
  q.finish_s = 0.5;
  q.input_tokens = 1024;
  q.output_tokens = 16;
  obs->OnRequestFinished(q);
}

std::string Printf(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

TEST_CASE("trace recorder: streamed text equals the kept text, numbers as printf prints them",
          "[trace]") {
  TraceRecorder kept(0, 1e9);
  Feed(kept, 3000);  // several write blocks' worth when streamed
  std::ostringstream stream;
  TraceRecorder streamed(0, 1e9, &stream);
  Feed(streamed, 3000);
  REQUIRE(streamed.Finish());
  const std::string text = kept.Text();
  CHECK(stream.str() == text);

  const auto doc = nlohmann::json::parse(text);
  int collectives = 0, steps = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e.value("cat", "") == "communication") {
      ++collectives;
      CHECK(e["name"] == "attn_allreduce");
    }
    if (e.value("cat", "") == "step") ++steps;
  }
  CHECK(collectives == 3000);
  CHECK(steps == 3000);
  // The text of step 1's slice and of the two kinds of byte counts, against printf.
  const double start = 0.0123456789, us = std::round(start * 1e9) / 1e3;
  CHECK(text.find("\"ts\":" + Printf("%.3f", us) + ",") != std::string::npos);
  CHECK(text.find("\"bytes\":" + Printf("%.17g", 911998976.0) + ",") != std::string::npos);
  CHECK(text.find("\"bytes\":" + Printf("%.17g", 1.0 / 3.0) + ",") != std::string::npos);
  CHECK(text.find(Printf("%.17g", (3.0e8 / 7.0) / 0.0123456789 / 1e9)) != std::string::npos);
}

TEST_CASE("trace recorder: the window keeps only what overlaps it", "[trace]") {
  TraceRecorder r(1.0, 2.0);
  Feed(r, 300);  // steps over 0 .. 3.7 s
  const auto doc = nlohmann::json::parse(r.Text());
  int steps = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e.value("cat", "") != "step") continue;
    ++steps;
    const double ts = e["ts"].get<double>() * 1e-6, dur = e["dur"].get<double>() * 1e-6;
    CHECK(ts + dur >= 1.0 - 1e-9);
    CHECK(ts <= 2.0 + 1e-9);
  }
  CHECK(steps > 70);
  CHECK(steps < 90);
}

}  // namespace
}  // namespace moesim
