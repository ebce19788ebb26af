// gelu, the exact (erf) form of PyTorch's F.gelu and of the ViT MLPs: y = x·Φ(x) = ½·x·(1 + erf(x/√2)).
// Its backward: dx = dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π).
// The forward pass also takes bfloat16 or float16 (computing in float, the fast transformer's MLP); the
// backward pass is float32.
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor gelu(const Tensor& x);
Tensor gelu_backward(const Tensor& dy, const Tensor& x);
}  // namespace ops
namespace cpu {
void gelu(const Tensor& x, Tensor& y);
void gelu_backward(const Tensor& dy, const Tensor& x, Tensor& dx);
}  // namespace cpu
namespace cuda {
void gelu(const Tensor& x, Tensor& y);
void gelu_backward(const Tensor& dy, const Tensor& x, Tensor& dx);
}  // namespace cuda
}  // namespace sc
