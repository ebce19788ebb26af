// layer_norm over the last dimension C of x (every other index a row), with per-channel γ and β, as PyTorch's
// F.layer_norm(x, [C]): y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + eps), μ and σ² (biased) the row's mean and
// variance. Its backward, with g = γ·dy, every mean taken over the row's C values:
//   dx = (g − mean(g) − x̂·mean(g·x̂)) / √(σ² + eps),   dγ = Σ_rows dy·x̂,   dβ = Σ_rows dy
// (μ and σ² depend on x, hence the two subtracted means). Sums in double.
// The forward pass also takes x (and gives y) in bfloat16 or float16, computing in float (the fast
// transformer's rows); γ, β and the backward pass are float32.
#pragma once
#include "nn/tensor.h"

namespace sc {

struct LayerNormGradients {
  Tensor dx, dweight, dbias;
};

namespace ops {
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
LayerNormGradients layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, double eps);
}  // namespace ops

namespace cpu {
void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor& y);
void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, double eps,
                         LayerNormGradients& g);
}  // namespace cpu
namespace cuda {
void layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor& y);
void layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, double eps,
                         LayerNormGradients& g);
}  // namespace cuda

}  // namespace sc
