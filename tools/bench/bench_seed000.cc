// Benchmark: simulate the five seed 000 sweep points (scenarios/reference/seed000_*.json), one
// process each as `moesim validate` does, sequentially, and report wall time, simulated steps
// per wall second and peak memory. Target (issue "foundation"): all five under 10 s of wall
// time and 1 GiB of peak memory on a 2-core machine.
//
//   ./build/bench_seed000 [SCENARIO_DIR]     (default: the source tree's scenarios/reference)
//
// Each point runs at the default fidelity ("layer") and again at "kernel" fidelity (every kernel
// a SimGrid Exec), to show what the detailed path costs.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "models/preset_library.h"
#include "tools/bench/bench_support.h"

#ifndef MOESIM_SOURCE_DIR
#define MOESIM_SOURCE_DIR "."
#endif

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : MOESIM_SOURCE_DIR "/scenarios/reference";
  auto presets = moesim::PresetLibrary::Load(moesim::PresetLibrary::DefaultDir());
  if (!presets.ok()) {
    std::fprintf(stderr, "%s\n", std::string(presets.status().message()).c_str());
    return 2;
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("seed000_", 0) == 0 && e.path().extension() == ".json") {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  for (const moesim::Fidelity fidelity : {moesim::Fidelity::kLayer, moesim::Fidelity::kKernel}) {
    std::printf("fidelity %s\n", moesim::FidelityName(fidelity));
    std::printf("%-28s %10s %10s %12s %14s\n", "scenario", "wall s", "steps", "sim s",
                "steps/wall s");
    double total_wall = 0;
    long total_steps = 0;
    for (const auto& f : files) {
      auto s = moesim::LoadScenario(f, *presets);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
        return 2;
      }
      s->simulation.fidelity = fidelity;
      auto timed = moesim::bench::RunTimed(*s);
      if (!timed.ok()) {
        std::fprintf(stderr, "%s\n", std::string(timed.status().message()).c_str());
        return 1;
      }
      const double wall = timed->wall_s;
      // Steps over the whole run, warm-up included: the report counts the measured window only,
      // so scale by duration / window.
      const auto& report = timed->report;

      const double window = report["window_s"].get<double>();
      const long steps = static_cast<long>(report["batch"]["steps"].get<long>() *
                                           s->simulation.duration_s / window);
      total_wall += wall;
      total_steps += steps;
      std::printf("%-28s %10.3f %10ld %12.1f %14.0f\n",
                  std::filesystem::path(f).filename().string().c_str(), wall, steps,
                  s->simulation.duration_s, steps / wall);
    }
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    std::printf(
        "total: %.3f s wall, %ld steps, %.0f steps/wall s, peak RSS of a simulation %.1f MiB\n\n",
        total_wall, total_steps, total_steps / total_wall, usage.ru_maxrss / 1024.0);
  }
  return 0;
}
