// A one-line progress bar on standard error for long commands (`moesim sweep`, `compare`):
// items done of the total, failures, and the estimated time left from the mean time per item
// so far. Silent when standard error is not a terminal or when disabled (--quiet), so logs and
// pipes never see it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace moesim {

class ProgressBar {
 public:
  // `what`: the items' name ("plans").
  ProgressBar(std::string what, size_t total, bool enabled);
  void Update(size_t done, size_t failed);
  // A fraction of the work done with a line of detail; drawn at most four times a second and
  // only once the command has run for two seconds (short runs show nothing).
  void Update(double fraction, const std::string& detail);
  // Clears the line.
  void Finish();

 private:
  std::string what_;
  size_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  double last_drawn_s_ = -1;
};

}  // namespace moesim
