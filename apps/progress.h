// A one-line progress report on stderr (done/total, rate, ETA), drawn only when stderr is a terminal.
#pragma once
#include <chrono>
#include <string>

namespace sc::app {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "images");
  // `done` items finished; `extra` is appended (e.g. "1.2e6 samples/s").
  void update(int64_t done, const std::string& extra = "");
  void finish();

 private:
  std::string label_, unit_;
  int64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace sc::app
