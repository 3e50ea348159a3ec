// Shared by the benchmarks: one simulation in its own process (SimGrid allows one engine per
// process), timed from the parent.
#pragma once

#include <sys/resource.h>

#include <chrono>

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "engine/scenario.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"

namespace moesim::bench {

struct TimedReport {
  nlohmann::json report;
  double wall_s = 0;
  double peak_rss_mib = 0;  // the simulation process's own peak resident set
};

inline absl::StatusOr<TimedReport> RunTimed(const Scenario& s) {
  const auto t0 = std::chrono::steady_clock::now();
  auto out = RunInSubprocesses(
      {[&s]() -> absl::StatusOr<std::string> {
        auto r = RunSimulation(s);
        if (!r.ok()) return r.status();
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return nlohmann::json{{"report", *r}, {"peak_rss_kib", u.ru_maxrss}}.dump();
      }},
      1);
  if (!out[0].ok()) return out[0].status();
  TimedReport t;
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const nlohmann::json both = nlohmann::json::parse(*out[0]);
  t.report = both["report"];
  t.peak_rss_mib = both["peak_rss_kib"].get<double>() / 1024.0;
  return t;
}

}  // namespace moesim::bench
