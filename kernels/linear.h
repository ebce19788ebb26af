// linear: y[n, o] = Σ_i x[n, i] · w[o, i] + bias[o] (PyTorch's Linear; weights [out, in]).
#pragma once
#include "kernels/backend.h"
#include "nn/tensor.h"

namespace sc {
namespace ops {
// x: [N, in]; bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, Backend backend = Backend::Default);
}  // namespace ops
namespace cpu {
void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
}
namespace cuda {
void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
void linear_cublas(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
}  // namespace cuda
}  // namespace sc
