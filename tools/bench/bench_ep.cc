// Benchmark (issue "expert parallelism at scale"): DeepSeek-V3 decode with DP attention and EP
// over 8 GPUs per server (IB NDR, 32 servers in 4 racks at EP 256), 64 sequences per GPU,
// 200-token prompts and long outputs (steady decode after the first prefill steps). For EP 8, 64
// and 256 it simulates 200 decode steps after warm-up, one process each, and reports wall time
// and steps per wall second, for two settings:
//   expected: uniform routing's expected load, analytic all-to-alls;
//   sampled:  Zipf-0.6 routing sampled per step and layer, analytic all-to-alls.
// Target: 200 steps of EP 256 with all 61 layers in under 30 s and 4 GiB at the default
// fidelity (not met: see the figures this prints and the README).
//
//   ./build/bench_ep [max_ep]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "models/preset_library.h"
#include "tools/bench/bench_support.h"

int main(int argc, char** argv) {
  const int max_ep = argc > 1 ? std::atoi(argv[1]) : 256;
  auto presets = moesim::PresetLibrary::Load(moesim::PresetLibrary::DefaultDir());
  if (!presets.ok()) return 2;
  std::printf("%6s %-9s %8s %10s %12s %14s %10s\n", "EP", "routing", "steps", "wall s",
              "steps/wall s", "sim ms/step", "peak MiB");
  for (int ep : {8, 64, 256}) {
    if (ep > max_ep) break;
    for (const bool sampled : {false, true}) {
      const int servers = ep / 8;
      nlohmann::json doc = {
          {"name", "bench-ep" + std::to_string(ep)},
          {"hardware",
           {{"gpu", "H200"},
            {"gpus_per_server", 8},
            {"servers_per_rack", std::min(servers, 8)},
            {"racks", std::max(1, servers / 8)}}},
          {"model", {{"preset", "DeepSeek-V3"}, {"kv_dtype", "fp8"}}},
          {"runtime", {{"preset", "vllm"}, {"execution_mode", "cuda_graph"}}},
          {"deployment", {{"attention", "data_parallel"}, {"expert_parallel", ep}}},
          {"workload",
           {{"arrival", "closed_loop"},
            {"concurrency", 64 * ep},
            {"input_tokens", {{"kind", "fixed"}, {"tokens", 200}}},
            {"output_tokens", {{"kind", "fixed"}, {"tokens", 100000}}}}},
          // ~38 ms per decode step: 6 s of warm-up covers the prefill, 8 s more ~200 steps.
          {"simulation",
           {{"duration_s", 14}, {"warmup_s", 6}, {"seed", 1}, {"collectives", "analytic"}}}};
      if (sampled) doc["routing"] = {{"kind", "zipf"}, {"exponent", 0.6}};
      auto s = moesim::ParseScenario(doc, "bench_ep", *presets);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
        return 2;
      }
      auto timed = moesim::bench::RunTimed(*s);
      if (!timed.ok()) {
        std::fprintf(stderr, "%s\n", std::string(timed.status().message()).c_str());
        return 1;
      }
      const double wall = timed->wall_s;
      const auto& r = timed->report;
      rusage u{};
      getrusage(RUSAGE_CHILDREN, &u);
      const long steps = r["batch"]["steps"].get<long>();
      std::printf("%6d %-9s %8ld %10.2f %12.1f %14.2f %10.0f\n", ep,
                  sampled ? "sampled" : "expected", steps, wall, steps / wall,
                  r["batch"]["mean_step_ms"].get<double>(), u.ru_maxrss / 1024.0);
      std::fflush(stdout);
    }
  }
  return 0;
}
