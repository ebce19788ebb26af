#include <algorithm>
#include <cmath>

#include "kernels/softmax.h"

namespace sc::cpu {

void softmax(const Tensor& x, bool log, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1);
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static) if (N > 256)
  for (int64_t n = 0; n < N; ++n) {
    const float* xi = xp + n * C;
    float* yi = yp + n * C;
    const float m = *std::max_element(xi, xi + C);
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) sum += std::exp(static_cast<double>(xi[c] - m));
    if (log) {
      const double lse = std::log(sum);
      for (int64_t c = 0; c < C; ++c) yi[c] = static_cast<float>(static_cast<double>(xi[c] - m) - lse);
    } else {
      for (int64_t c = 0; c < C; ++c) yi[c] = static_cast<float>(std::exp(static_cast<double>(xi[c] - m)) / sum);
    }
  }
}

}  // namespace sc::cpu
