#include "kernels/gelu.h"

#include <cmath>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/float_dispatch.h"
#include "kernels/gelu_formula.h"

namespace sc::cpu {

namespace {

template <typename T>
void gelu_typed(const Tensor& x, Tensor& y) {
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    yp[i] = from_f32<T>(gelu_value(to_f32(xp[i])));
  }
}
}  // namespace

void gelu(const Tensor& x, Tensor& y) {
  visit_float_storage(x.dtype(), "gelu", [&](auto t) { gelu_typed<decltype(t)>(x, y); });
}

void gelu_backward(const Tensor& dy, const Tensor& x, Tensor& dx) {
  const float *xp = x.data<float>(), *dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  const int64_t n = x.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    dxp[i] = dyp[i] * gelu_derivative(xp[i]);
  }
}

}  // namespace sc::cpu
