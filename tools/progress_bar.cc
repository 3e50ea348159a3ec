#include "tools/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace moesim {

ProgressBar::ProgressBar(std::string what, size_t total, bool enabled)
    : what_(std::move(what)),
      total_(total),
      enabled_(enabled && isatty(fileno(stderr)) != 0 && total > 0),
      start_(std::chrono::steady_clock::now()) {
  Update(0, 0);
}

void ProgressBar::Update(size_t done, size_t failed) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / total_);
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char left[32] = "?";
  if (done > 0) std::snprintf(left, sizeof left, "%.0f s", elapsed / done * (total_ - done));
  std::fprintf(stderr, "\r[%s] %zu/%zu %s, %zu failed, %s left   ", bar, done, total_,
               what_.c_str(), failed, left);
  std::fflush(stderr);
}

void ProgressBar::Update(double fraction, const std::string& detail) {
  if (!enabled_) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (elapsed < 2.0 || elapsed - last_drawn_s_ < 0.25) return;
  last_drawn_s_ = elapsed;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * std::clamp(fraction, 0.0, 1.0));
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  char left[32] = "?";
  if (fraction > 0) std::snprintf(left, sizeof left, "%.0f s", elapsed / fraction * (1 - fraction));
  std::fprintf(stderr, "\r[%s] %s, %.0f s wall, %s left   ", bar, detail.c_str(), elapsed, left);
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r%*s\r", 80, "");
  std::fflush(stderr);
}

}  // namespace moesim
