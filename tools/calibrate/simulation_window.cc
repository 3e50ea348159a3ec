#include "tools/calibrate/simulation_window.h"

#include <algorithm>
#include <cmath>

namespace moesim::calibrate {

SimulationWindow SizeSimulationWindow(const MeasuredLatency& m, const WindowRules& rules) {
  SimulationWindow w;
  w.lifetime_s = m.ttft_s + static_cast<double>(m.osl) * m.tpot_s;
  const double lifetimes_for_requests =
      std::ceil(static_cast<double>(rules.min_finished_requests) / static_cast<double>(m.conc));
  const double for_requests = lifetimes_for_requests * w.lifetime_s;
  const double step_cap = rules.max_window_steps * m.tpot_s;
  const double window =
      std::max(rules.min_window_lifetimes * w.lifetime_s, std::min(for_requests, step_cap));
  w.step_capped = step_cap < for_requests;
  w.warmup_s = static_cast<int64_t>(std::ceil(rules.warmup_lifetimes * w.lifetime_s));
  w.duration_s = w.warmup_s + static_cast<int64_t>(std::ceil(window));
  return w;
}

}  // namespace moesim::calibrate
