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
  // dy loaded unconditionally, so that the loop vectorizes: a load under the condition kept it scalar.
  for (int64_t i = 0; i < n; ++i) {
    const float g = gp[i];
    dp[i] = yp[i] > 0.0f ? g : 0.0f;
  }
}

}  // namespace sc::cpu
