#include "kernels/pad_channels.h"

namespace sc::cpu {

void pad_channels(const Tensor& x, int64_t before, Tensor& y) {
  const int64_t N = y.size(0), Cy = y.size(1), C = x.size(1), P = y.size(2) * y.size(3);
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < Cy; ++c) {
      const int64_t src = c - before;
      float* yi = yp + (n * Cy + c) * P;
      if (src < 0 || src >= C) {
        for (int64_t i = 0; i < P; ++i) yi[i] = 0.0f;
      } else {
        const float* xi = xp + (n * C + src) * P;
        for (int64_t i = 0; i < P; ++i) yi[i] = xi[i];
      }
    }
}

}  // namespace sc::cpu
