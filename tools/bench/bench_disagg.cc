// Benchmark (issue 11, speed): DeepSeek-V3 prefill/decode disaggregation with 10,000 requests,
// 1P1D and 4P2D, each simulated in its own process; reports wall time, requests simulated and
// peak memory. Target: under 10 s of wall time each on a 2-core machine.
//
//   ./build/bench_disagg [N_REQUESTS]      (default 10000)
//
// Both runs start from scenarios/disaggregation/deepseek-v3-h200-1p1d-tp8.json (TP8 prefill and
// decode instances on 8xH200 servers, Poisson traffic, prompts 2,000-4,000 tokens, answers
// 200-600, analytic all-reduces inside servers, KV transfers as SimGrid flows over the NICs):
// 1P1D at 6 requests/s, 4P2D (four prefill and two decode instances) at 24 requests/s, each for
// N / rate simulated seconds, so that N requests arrive.
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "models/preset_library.h"
#include "tools/bench/bench_support.h"

#ifndef MOESIM_SOURCE_DIR
#define MOESIM_SOURCE_DIR "."
#endif

int main(int argc, char** argv) {
  const double requests = argc > 1 ? std::stod(argv[1]) : 10000;
  auto presets = moesim::PresetLibrary::Load(moesim::PresetLibrary::DefaultDir());
  if (!presets.ok()) {
    std::fprintf(stderr, "%s\n", std::string(presets.status().message()).c_str());
    return 2;
  }
  std::ifstream in(MOESIM_SOURCE_DIR "/scenarios/disaggregation/deepseek-v3-h200-1p1d-tp8.json");
  const nlohmann::json base = nlohmann::json::parse(in);
  struct Variant {
    const char* name;
    int prefill, decode;
    double rate;
  };
  std::printf("%-6s %8s %10s %10s %12s %12s %10s\n", "plan", "wall s", "sim s", "arrived",
              "finished/s", "TTFT p50 ms", "peak MiB");
  for (const Variant v : {Variant{"1P1D", 1, 1, 6.0}, Variant{"4P2D", 4, 2, 24.0}}) {
    nlohmann::json doc = base;
    doc["name"] = std::string("bench-") + v.name;
    doc["hardware"]["servers_per_rack"] = v.prefill + v.decode;
    doc["deployment"]["pools"][0]["instances"] = v.prefill;
    doc["deployment"]["pools"][1]["instances"] = v.decode;
    doc["workload"]["rate_per_s"] = v.rate;
    doc["simulation"]["duration_s"] = requests / v.rate;
    doc["simulation"]["warmup_s"] = 0.1 * requests / v.rate;
    auto s = moesim::ParseScenario(doc, v.name, *presets);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
      return 2;
    }
    auto timed = moesim::bench::RunTimed(*s);
    if (!timed.ok()) {
      std::fprintf(stderr, "%s\n", std::string(timed.status().message()).c_str());
      return 1;
    }
    const auto& r = timed->report;
    std::printf("%-6s %8.2f %10.0f %10.0f %12.2f %12.1f %10.0f\n", v.name, timed->wall_s,
                s->simulation.duration_s, v.rate * s->simulation.duration_s,
                r["throughput"]["requests_per_s"].get<double>(),
                r["latency_s"]["ttft"]["p50"].get<double>() * 1e3, timed->peak_rss_mib);
  }
  return 0;
}
