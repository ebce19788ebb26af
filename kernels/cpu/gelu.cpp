#include "kernels/gelu.h"

#include <cmath>

namespace sc::cpu {

namespace {
constexpr float kInvSqrt2 = 0.70710678118654752f, kInvSqrt2Pi = 0.39894228040143268f;
}

void gelu(const Tensor& x, Tensor& y) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) yp[i] = 0.5f * xp[i] * (1.0f + std::erf(xp[i] * kInvSqrt2));
}

void gelu_backward(const Tensor& dy, const Tensor& x, Tensor& dx) {
  const float *xp = x.data<float>(), *dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float v = xp[i];
    dxp[i] = dyp[i] * (0.5f * (1.0f + std::erf(v * kInvSqrt2)) + v * kInvSqrt2Pi * std::exp(-0.5f * v * v));
  }
}

}  // namespace sc::cpu
