// Benchmark (issue "expert parallelism at scale"): DeepSeek-V3 decode with DP attention and EP
// over servers of 8 H200 (IB NDR; EP 256 = 32 servers in 4 racks), Zipf-0.6 routing sampled per
// step, MoE layer and GPU, 64 sequences per GPU, 20-token prompts (one prefill step) and endless
// outputs, at the default fidelity (layer; all-to-alls analytic for groups spanning servers).
// Each row is one process; "steps" counts every step of the run (prefill included), and the
// wall time covers parsing, platform building and the whole run.
//   rows 1-3: EP 8, 64, 256; rows 4-5: EP 256 for half and twice as long (growth with steps).
// The simulated duration is sized by two probe runs (steps grow linearly with duration after the
// first, long prefill step), so "steps" lands near the nominal count.
//   row 6:    EP 64 with exact per-token routing ("routing.sampler": "per_token");
//   row 7:    EP 64 with two-batch overlap;
//   rows 8-9: EP 64 and 256 on DeepEP normal kernels (eager runtime; hit rates estimated at
//             set-up, included in the wall time).
// Target: 200 steps of EP 256 with all 61 layers in under 30 s and 4 GiB.
//
//   ./build/bench_ep [max_ep [variant]]   (variant: only rows whose variant is exactly this)
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
  const std::string only = argc > 2 ? argv[2] : "";
  auto presets = moesim::PresetLibrary::Load(moesim::PresetLibrary::DefaultDir());
  if (!presets.ok()) return 2;
  std::printf("%6s %-22s %8s %10s %12s %14s %10s\n", "EP", "variant", "steps", "wall s",
              "steps/wall s", "sim ms/step", "peak MiB");
  struct Row {
    int ep;
    double steps;  // approximate target
    const char* variant;
  };
  const Row rows[] = {
      {8, 200, "zipf"},          {64, 200, "zipf"},        {256, 200, "zipf"},
      {256, 100, "zipf"},        {256, 400, "zipf"},       {64, 200, "zipf per_token"},
      {64, 200, "zipf overlap"}, {64, 200, "zipf normal"}, {256, 200, "zipf normal"}};
  for (const Row& row : rows) {
    const int ep = row.ep;
    if (ep > max_ep) continue;
    const std::string variant = row.variant;
    if (!only.empty() && variant != only) continue;
    const int servers = ep / 8;
    nlohmann::json doc = {{"name", "bench-ep" + std::to_string(ep)},
                          {"hardware",
                           {{"gpu", "H200"},
                            {"gpus_per_server", 8},
                            {"servers_per_rack", std::min(servers, 8)},
                            {"racks", std::max(1, servers / 8)}}},
                          {"model", {{"preset", "DeepSeek-V3"}, {"kv_dtype", "fp8"}}},
                          {"runtime",
                           {{"preset", "vllm"},
                            {"execution_mode", variant == "zipf normal" ? "eager" : "cuda_graph"}}},
                          {"deployment",
                           {{"attention", "data_parallel"},
                            {"expert_parallel", ep},
                            {"two_batch_overlap", variant == "zipf overlap"},
                            {"moe_dispatch", variant == "zipf normal" ? "normal" : "low_latency"}}},
                          {"routing", {{"kind", "zipf"}, {"exponent", 0.6}}},
                          {"workload",
                           {{"arrival", "closed_loop"},
                            {"concurrency", 64 * ep},
                            {"input_tokens", {{"kind", "fixed"}, {"tokens", 20}}},
                            {"output_tokens", {{"kind", "fixed"}, {"tokens", 100000}}}}},
                          {"simulation", {{"duration_s", 2.0}, {"warmup_s", 0.0}, {"seed", 1}}}};
    if (variant == "zipf per_token") doc["routing"]["sampler"] = "per_token";
    // Two probe runs size the simulated duration so that the timed run takes ~row.steps steps:
    // steps ≈ a + duration / step time, fitted through the probes' (duration, steps).
    absl::StatusOr<moesim::bench::TimedReport> timed;
    double last_duration = 0, last_steps = 0;
    for (int pass = 0; pass < 3; ++pass) {
      auto s = moesim::ParseScenario(doc, "bench_ep", *presets);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
        return 2;
      }
      timed = moesim::bench::RunTimed(*s);
      if (!timed.ok()) {
        std::fprintf(stderr, "%s\n", std::string(timed.status().message()).c_str());
        return 1;
      }
      const double duration = doc["simulation"]["duration_s"].get<double>();
      const double steps = timed->report["batch"]["steps"].get<double>();
      const double step_s = pass == 0
                                ? duration / std::max(1.0, steps)
                                : (duration - last_duration) / std::max(1.0, steps - last_steps);
      if (pass < 2) {
        doc["simulation"]["duration_s"] =
            std::max(duration * 0.1, duration + (row.steps - steps) * step_s);
      }
      last_duration = duration;
      last_steps = steps;
    }

    const double wall = timed->wall_s;
    const auto& r = timed->report;
    const long steps = r["batch"]["steps"].get<long>();
    std::printf("%6d %-22s %8ld %10.2f %12.1f %14.2f %10.0f\n", ep, variant.c_str(), steps, wall,
                steps / wall, r["batch"]["mean_step_ms"].get<double>(), timed->peak_rss_mib);

    std::fflush(stdout);
  }
  return 0;
}
