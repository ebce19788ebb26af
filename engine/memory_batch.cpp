#include "engine/memory_batch.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nn/error.h"
#include "nn/memory.h"
#include "nn/runtime.h"

namespace sc {

MemoryNeed measure_memory_need(Device device, const std::function<void(int64_t rows)>& run) {
  const auto start = static_cast<int64_t>(live_bytes(device).now);
  auto peak_for = [&](int64_t rows) {
    reset_peak_bytes(device);
    run(rows);
    return std::max<int64_t>(static_cast<int64_t>(live_bytes(device).peak) - start, 0);
  };
  const int64_t one = peak_for(1), two = peak_for(2);
  MemoryNeed need;
  need.per_row = std::max<int64_t>(two - one, 1);
  need.fixed = std::max<int64_t>(one - need.per_row, 0);
  return need;
}

int64_t batch_memory_budget(Device device) {
  if (device.is_cpu()) return host_available_memory_bytes() / 2;
  const auto cached = static_cast<int64_t>(device_allocator_stats().cached_bytes);
  return (cuda_free_memory_bytes(device.index) + cached) / 2;
}

int64_t rows_within(const MemoryNeed& need, int64_t budget, int64_t most) {
  SC_CHECK(need.per_row > 0 && most >= 1, "rows_within: need a positive size per row and a positive limit");
  const int64_t rows = std::clamp<int64_t>((budget - need.fixed) / need.per_row, 1, most);
  return rows >= 100 ? rows / 100 * 100 : rows;
}

std::string format_bytes(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  auto v = static_cast<double>(bytes);
  int u = 0;
  while (std::abs(v) >= 1000.0 && u < 4) v /= 1000.0, ++u;
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return text;
}

std::string describe(const MemoryNeed& need) {
  const std::string per = format_bytes(need.per_row) + " per sample";
  return need.fixed > 0 ? per + " + " + format_bytes(need.fixed) : per;
}

}  // namespace sc
