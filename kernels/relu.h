// relu: y = max(x, 0), NaN passed through (as PyTorch). Its input gradient from the output: dx = dy where
// y > 0, else 0 (at 0 and for NaN outputs the gradient is 0, as PyTorch's threshold_backward).
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor relu(const Tensor& x);
Tensor relu_backward(const Tensor& dy, const Tensor& y);
}  // namespace ops
namespace cpu {
void relu(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx);
}  // namespace cpu
namespace cuda {
void relu(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& dy, const Tensor& y, Tensor& dx);
}  // namespace cuda
}  // namespace sc
