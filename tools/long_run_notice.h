// A one-time notice on standard error that a run is going to be long, so that a run of many
// minutes is never silent, on a terminal or in a log. Once the run has taken kAfterS of wall
// time, its pace so far (fraction of the simulated duration done per wall second) projects the
// whole run's wall time; when that is above kLongS it prints, once:
//   moesim: this run will take about 7.5 min of wall time at its pace so far (4 % of the
//   simulated duration in 18 s); shorten simulation.duration_s or use fidelity "step" for a
//   quicker estimate
// The pace is measured, not modelled: the analytic screen knows a run's step count but a step's
// wall cost spans 14 µs to 6 ms across the shipped scenarios (fidelity, ranks, collectives), so
// the first seconds of the run itself are the better estimate. Disabled with --quiet.
#pragma once

#include <cstdio>
#include <functional>

namespace moesim {

class LongRunNotice {
 public:
  static constexpr double kAfterS = 2.0;  // wall seconds before the pace is trusted
  static constexpr double kLongS = 60.0;  // projected wall seconds worth a notice

  // `wall_s`: seconds since the run started (a steady clock by default; tests pass their own).
  LongRunNotice(bool enabled, std::FILE* out = stderr, std::function<double()> wall_s = {});
  // `fraction_done`: the share of the simulated duration simulated so far.
  void Update(double fraction_done);
  bool printed() const { return printed_; }

 private:
  bool enabled_;
  std::FILE* out_;
  std::function<double()> wall_s_;
  bool printed_ = false;
};

}  // namespace moesim
