#include <cmath>

#include "kernels/silu.h"

namespace sc::cpu {

void silu(const Tensor& x, Tensor& y) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) yp[i] = xp[i] / (1.0f + std::exp(-xp[i]));
}

}  // namespace sc::cpu
