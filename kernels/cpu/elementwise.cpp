#include <algorithm>

#include "kernels/elementwise.h"

namespace sc::cpu {

void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  const float *ap = a.data<float>(), *bp = b.data<float>();
  float* yp = y.data<float>();
  const int64_t n = a.numel();
  if (op == BinaryOp::Add) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) yp[i] = ap[i] + bp[i];
  } else {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) yp[i] = ap[i] * bp[i];
  }
}

void affine(const Tensor& x, float alpha, float beta, Tensor& y) {
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) yp[i] = alpha * xp[i] + beta;
}

void combine(float a, const Tensor& x, float b, const Tensor& y, float lo, float hi, Tensor& out) {
  const float *xp = x.data<float>(), *yp = y.data<float>();
  float* op = out.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) op[i] = std::min(hi, std::max(lo, a * xp[i] + b * yp[i]));
}

}  // namespace sc::cpu
