// How long to simulate a reference point, sized from its own measured latencies.
//
// A closed loop of `conc` clients starts with every request arriving at t = 0, so the first
// lifetime is a prefill wave, not the steady state the measurement averages over. With
// L = ttft + osl × tpot (one request's lifetime):
//   warmup  W = 1.5 L                                     (past the first wave)
//   window  max(2 L, min(ceil(30 / conc) × L, 40,000 × tpot))
//             at least two lifetimes; enough lifetimes for 30 requests to finish, unless that
//             takes more than 40,000 decode steps (then fewer requests are accepted)
//   duration D = W + window
// Both W and the window are rounded up to whole seconds.
//
//   SimulationWindow w = SizeSimulationWindow({.ttft_s = 0.53, .tpot_s = 0.01267,
//                                              .osl = 1024, .conc = 8});
//   // w.warmup_s == 21, w.duration_s == 21 + 55
#pragma once

#include <cstdint>

namespace moesim::calibrate {

struct MeasuredLatency {
  double ttft_s = 0;  // median time to first token
  double tpot_s = 0;  // median time per output token (> 0)
  int64_t osl = 0;    // output tokens per request
  int64_t conc = 1;   // clients in the closed loop (> 0)
};

// The sizing rules above; defaults are the reference set's.
struct WindowRules {
  double warmup_lifetimes = 1.5;
  double min_window_lifetimes = 2;
  int64_t min_finished_requests = 30;
  double max_window_steps = 40000;
};

struct SimulationWindow {
  int64_t warmup_s = 0;
  int64_t duration_s = 0;    // includes the warmup
  double lifetime_s = 0;     // L
  bool step_capped = false;  // the 40,000-step cap shortened the window below 30 requests
};

SimulationWindow SizeSimulationWindow(const MeasuredLatency& m, const WindowRules& rules = {});

}  // namespace moesim::calibrate
