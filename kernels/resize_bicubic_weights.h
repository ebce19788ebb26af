// The antialiased cubic filter's taps for one output index, shared by the CPU and CUDA paths.
#pragma once
#include <cmath>

#include "kernels/host_device.h"

namespace sc {

SC_HOST_DEVICE float cubic_filter(float x) {  // Keys' cubic with a = −0.5
  constexpr float a = -0.5f;
  x = x < 0 ? -x : x;
  if (x < 1.0f) return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
  if (x < 2.0f) return ((a * x - 5.0f * a) * x + 8.0f * a) * x - 4.0f * a;
  return 0.0f;
}

// Output index i of a resize from `in` to `out` samples: first input index, tap count (≤ max_taps) and weights.
SC_HOST_DEVICE int cubic_taps(int i, int in, int out, float* w, int max_taps, int* first) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float support = scale >= 1.0f ? 2.0f * scale : 2.0f;
  const float inv = scale >= 1.0f ? 1.0f / scale : 1.0f;
  const float center = scale * (static_cast<float>(i) + 0.5f);
  int lo = static_cast<int>(center - support + 0.5f);
  if (lo < 0) lo = 0;
  int hi = static_cast<int>(center + support + 0.5f);
  if (hi > in) hi = in;
  int n = hi - lo;
  if (n > max_taps) n = max_taps;
  float total = 0.0f;
  for (int j = 0; j < n; ++j) {
    w[j] = cubic_filter((static_cast<float>(j + lo) - center + 0.5f) * inv);
    total += w[j];
  }
  for (int j = 0; j < n; ++j) w[j] = total != 0.0f ? w[j] / total : 0.0f;
  *first = lo;
  return n;
}

}  // namespace sc
