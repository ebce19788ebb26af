// BatchNorm in training mode, over x of shape [N, C] or [N, C, H, W] (PyTorch's F.batch_norm(training=True)):
// the batch's statistics per channel, mean μ_c and biased variance σ²_c over the n = N·H·W values, normalize
// with them (ops::batch_norm with μ, σ² in place of the running statistics), and the gradients of that pass.
// With x̂ = (x − μ)/√(σ² + eps), y = γ·x̂ + β and dy = ∂L/∂y:
//   dβ_c = Σ dy,   dγ_c = Σ dy·x̂,   dx = γ/√(σ² + eps) · (dy − dβ_c/n − x̂·dγ_c/n)
// (μ and σ² depend on x, hence the two subtracted means). Sums in double.
#pragma once
#include "nn/tensor.h"

namespace sc {

struct BatchNormGradients {
  Tensor dx, dweight, dbias;
};

namespace ops {
// [2, C]: row 0 the means, row 1 the biased variances (two passes: the mean, then the squared deviations).
Tensor batch_norm_statistics(const Tensor& x);
// stats: batch_norm_statistics(x).
BatchNormGradients batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                       const Tensor& stats, double eps);
}  // namespace ops

namespace cpu {
void batch_norm_statistics(const Tensor& x, Tensor& stats);
void batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& stats,
                         double eps, BatchNormGradients& g);
}  // namespace cpu
namespace cuda {
void batch_norm_statistics(const Tensor& x, Tensor& stats);
void batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& stats,
                         double eps, BatchNormGradients& g);
}  // namespace cuda

}  // namespace sc
