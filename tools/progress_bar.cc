#include "tools/progress_bar.h"

#include <unistd.h>

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

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r%*s\r", 80, "");
  std::fflush(stderr);
}

}  // namespace moesim
