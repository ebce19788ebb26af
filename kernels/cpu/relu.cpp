#include "kernels/relu.h"

namespace sc::cpu {

void relu(const Tensor& x, Tensor& y) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) yp[i] = (xp[i] > 0.0f || xp[i] != xp[i]) ? xp[i] : 0.0f;
}

void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx) {
  const float* gp = dy.data<float>();
  const float* yp = y.data<float>();
  float* dp = dx.data<float>();
  const int64_t n = y.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dp[i] = yp[i] > 0.0f ? gp[i] : 0.0f;
}

}  // namespace sc::cpu
