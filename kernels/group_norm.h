// group_norm: y = (x − mean_g) / √(var_g + eps) · gamma[c] + beta[c], with mean and (biased) variance over each
// sample's group of C/G channels and all spatial positions (PyTorch's GroupNorm; statistics in double on the CPU,
// float on CUDA). x: [N, C, ...].
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps = 1e-5);
}
namespace cpu {
void group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y);
}
namespace cuda {
void group_norm(const Tensor& x, int64_t groups, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y);
}
}  // namespace sc
