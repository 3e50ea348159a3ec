// engine/trace_event_text: the JSON text of each kind of trace event on its own, as the writer
// thread formats it: escaping, metadata, comma placement, negative and fractional timestamps,
// whole and fractional byte counts, a request's three slices, and a slice head reused across
// events of one op on one track.
#include "engine/trace_event_text.h"

#include <catch2/catch.hpp>

#include <array>
#include <string>

#include <nlohmann/json.hpp>

namespace moesim {
namespace {

// The events' text as a JSON array.
nlohmann::json Parse(const TraceEventText& t) {
  return nlohmann::json::parse("[" + std::string(t.view()) + "]");
}

TEST_CASE("trace event text: names are quoted, escaped only when they need it", "[trace]") {
  CHECK(TraceEventText::Quoted("attn_allreduce") == "\"attn_allreduce\"");
  CHECK(TraceEventText::Quoted("pool \"a\"\n") == "\"pool \\\"a\\\"\\n\"");
  const auto parsed = nlohmann::json::parse(TraceEventText::Quoted("π ≈ 3"));
  CHECK(parsed.get<std::string>() == "π ≈ 3");
}

TEST_CASE("trace event text: each kind of event", "[trace]") {
  TraceBatch b;
  b.texts.push_back(R"("ph":"M","name":"process_name","pid":0,"args":{"name":"pool x"})");
  TraceEvent meta;  // kMetadata, texts[0]
  b.events.push_back(meta);
  for (int i = 0; i < 2; ++i) {  // the second reuses the first's cached head
    TraceEvent c;
    c.kind = TraceEvent::Kind::kCommunication;
    c.name = "moe_dispatch";
    c.pool = 1;
    c.tid = 1000001;
    c.first_gpu = 8;
    c.start_s = i == 0 ? 0.0000015 : 2.5;
    c.end_s = c.start_s + 0.0001234564;
    c.bytes = i == 0 ? 4096.0 : 0.1;
    if (i == 1) {  // three collectives of a step merged into one slice
      c.count = 3;
      c.busy_s = 0.00005;
    }
    b.events.push_back(c);
  }
  TraceEvent k;
  k.kind = TraceEvent::Kind::kKernel;
  k.name = "fused_moe";
  k.tid = 2000000;
  k.start_s = -0.000001;  // before zero: a sign, then the digits
  k.end_s = 0;
  b.events.push_back(k);
  const std::array<double, 4> capacity{1e11, 0, 0, 0};
  TraceEventDetail step;
  step.counts = {70, 64, 64, 3, 900};
  step.tier_bytes = {5e8, 0, 0, 0};
  step.tier_capacity = &capacity;
  b.details.push_back(step);
  TraceEvent s;
  s.kind = TraceEvent::Kind::kStep;
  s.tid = 2;
  s.start_s = 1.0;
  s.end_s = 1.01;
  s.detail = 0;
  b.events.push_back(s);
  TraceEventDetail req;
  req.counts = {42, 1000, 200, 1, 0};
  req.first_token_s = 0.3;
  b.details.push_back(req);
  TraceEvent r;
  r.kind = TraceEvent::Kind::kRequest;
  r.start_s = 0.25;
  r.end_s = 4.0;
  r.detail = 1;
  b.events.push_back(r);

  TraceEventText t;
  CHECK_FALSE(t.any());
  t.Append(b);
  CHECK(t.any());
  const std::string text(t.view());
  // Events are separated by ",\n", with nothing before the first or after the last.
  CHECK(text.rfind("{\"ph\":\"M\"", 0) == 0);
  CHECK(text.back() == '}');
  const nlohmann::json e = Parse(t);
  // 1 metadata + 2 communication + 1 kernel + 4 step (slice and three counters) + 4 request.
  REQUIRE(e.size() == 12);
  CHECK(e[0]["args"]["name"] == "pool x");
  CHECK(e[1]["name"] == "moe_dispatch");
  CHECK(e[1]["cat"] == "communication");
  CHECK(text.find(R"("ts":1.500,"dur":123.456,"args":{"bytes":4096,"from_gpu":8})") !=
        std::string::npos);
  CHECK(e[2]["ts"].get<double>() == 2500000.0);
  CHECK_FALSE(e[1]["args"].contains("collectives"));
  CHECK(text.find(R"("from_gpu":8,"collectives":3,"busy_us":50.000})") != std::string::npos);
  CHECK(text.find(R"("bytes":0.10000000000000001,)") != std::string::npos);  // "%.17g"
  CHECK(e[3]["cat"] == "kernel");
  CHECK_FALSE(e[3].contains("args"));
  CHECK(text.find(R"("ts":-1.000,"dur":1.000)") != std::string::npos);
  CHECK(e[4]["name"] == "step");
  CHECK(e[4]["args"]["tokens"] == 70);
  CHECK(e[4]["args"]["queued"] == 3);
  CHECK(e[5]["name"] == "instance 2");
  CHECK(e[5]["args"]["kv_blocks_in_use"] == 900);
  CHECK(e[5]["ts"].get<double>() == 1010000.0);
  CHECK(e[6]["args"]["scale_up"].get<double>() == Approx(50.0));  // 5e8 B / 10 ms, GB/s
  CHECK(e[7]["args"]["scale_up"].get<double>() == Approx(0.5));   // of 100 GB/s
  CHECK(e[7]["args"]["scale_out"].get<double>() == 0.0);          // no capacity there
  CHECK(e[8]["ph"] == "b");
  CHECK(e[8]["id"] == 42);
  CHECK(e[8]["args"]["preemptions"] == 1);
  CHECK(e[10]["ts"].get<double>() == 300000.0);  // the first token ends the nested slice
  CHECK(e[11]["ph"] == "e");
  CHECK(e[11]["ts"].get<double>() == 4000000.0);
  // Forgetting the text keeps the separator state: the next event starts with ",\n".
  t.clear();
  t.Append(TraceBatch{{meta}, {}, {b.texts[0]}});
  CHECK(std::string(t.view()).rfind(",\n{", 0) == 0);
}

}  // namespace
}  // namespace moesim
