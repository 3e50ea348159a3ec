#include "tools/long_run_notice.h"

#include <chrono>
#include <utility>

namespace moesim {

LongRunNotice::LongRunNotice(bool enabled, std::FILE* out, std::function<double()> wall_s)
    : enabled_(enabled), out_(out), wall_s_(std::move(wall_s)) {
  if (!wall_s_) {
    const auto start = std::chrono::steady_clock::now();
    wall_s_ = [start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
  }
}

void LongRunNotice::Update(double fraction_done) {
  if (!enabled_ || printed_ || !(fraction_done > 0) || fraction_done >= 1) return;
  const double elapsed = wall_s_();
  if (elapsed < kAfterS) return;
  const double projected = elapsed / fraction_done;
  if (projected <= kLongS) return;
  printed_ = true;
  const bool minutes = projected >= 120;
  std::fprintf(out_,
               "moesim: this run will take about %.*f %s of wall time at its pace so far (%.0f %% "
               "of the simulated duration in %.0f s); shorten simulation.duration_s or use "
               "fidelity \"step\" for a quicker estimate\n",
               minutes ? 1 : 0, minutes ? projected / 60 : projected, minutes ? "min" : "s",
               100 * fraction_done, elapsed);
  std::fflush(out_);
}

}  // namespace moesim
