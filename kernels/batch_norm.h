// batch_norm (inference): y = (x − running_mean[c]) / √(running_var[c] + eps) · gamma[c] + beta[c],
// over x of shape [N, C] or [N, C, H, W].
#pragma once
#include "nn/tensor.h"

namespace sc {
namespace ops {
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                  double eps = 1e-5);
}
namespace cpu {
void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                double eps, Tensor& y);
}
namespace cuda {
void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                double eps, Tensor& y);
}
}  // namespace sc
