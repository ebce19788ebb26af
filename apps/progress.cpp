#include "apps/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sc::app {

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), enabled_(isatty(STDERR_FILENO) == 1) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t done, const std::string& extra) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const double rate = secs > 0 ? done / secs : 0;
  const double eta = rate > 0 ? (total_ - done) / rate : 0;
  const int width = 30, filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
  std::fprintf(stderr, "\r%s [%.*s%*s] %lld/%lld %s  %.1f %s/s  ETA %02d:%02d:%02d %s\033[K", label_.c_str(), filled,
               "##############################", width - filled, "", static_cast<long long>(done),
               static_cast<long long>(total_), unit_.c_str(), rate, unit_.c_str(), static_cast<int>(eta) / 3600,
               static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60, extra.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_) std::fputs("\n", stderr);
}

}  // namespace sc::app
