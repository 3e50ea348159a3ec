// Tests for tools/calibrate/simulation_window.h: warmup and window sized from measured latencies.
#include "tools/calibrate/simulation_window.h"

#include <catch2/catch.hpp>

namespace moesim::calibrate {
namespace {

MeasuredLatency Latency(double ttft_s, double tpot_s, int64_t osl, int64_t conc) {
  MeasuredLatency m;
  m.ttft_s = ttft_s;
  m.tpot_s = tpot_s;
  m.osl = osl;
  m.conc = conc;
  return m;
}

TEST_CASE("window: 30 requests need ceil(30 / conc) lifetimes", "[calibrate]") {
  // L = 0.53 + 1024 × 0.01267 = 13.504 s; W = ceil(20.26) = 21; 30 / 8 -> 4 lifetimes = 54.0 s.
  const SimulationWindow w = SizeSimulationWindow(Latency(0.53, 0.01267, 1024, 8));
  CHECK(w.lifetime_s == Approx(13.504));
  CHECK(w.warmup_s == 21);
  CHECK(w.duration_s == 21 + 55);
  CHECK_FALSE(w.step_capped);
}

TEST_CASE("window: at least two lifetimes at high concurrency", "[calibrate]") {
  // conc 512: one lifetime finishes 512 requests, but the window holds two.
  const SimulationWindow w = SizeSimulationWindow(Latency(2.0, 0.02, 1024, 512));
  CHECK(w.lifetime_s == Approx(22.48));
  CHECK(w.warmup_s == 34);         // ceil(33.72)
  CHECK(w.duration_s == 34 + 45);  // ceil(44.96)
}

TEST_CASE("window: the 40,000-step cap wins over 30 requests, not over two lifetimes",
          "[calibrate]") {
  // conc 4, OSL 8192, TPOT 10 ms: L = 82.42 s; 30 requests need 8 L = 659 s = 65,900 steps;
  // the cap allows 400 s, more than 2 L = 164.8 s.
  const SimulationWindow w = SizeSimulationWindow(Latency(0.5, 0.01, 8192, 4));
  CHECK(w.step_capped);
  CHECK(w.warmup_s == 124);  // ceil(123.63)
  CHECK(w.duration_s == 124 + 400);

  WindowRules tight;
  tight.max_window_steps = 1000;  // 10 s: below two lifetimes, which then win
  const SimulationWindow t = SizeSimulationWindow(Latency(0.5, 0.01, 8192, 4), tight);
  CHECK(t.duration_s == 124 + 165);  // ceil(164.84)
}

}  // namespace
}  // namespace moesim::calibrate
