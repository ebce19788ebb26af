// adam_step: one step of Adam (Kingma & Ba 2015) on a parameter, in place, as torch.optim.Adam computes it
// (amsgrad off, weight decay as an L2 term on the gradient):
//   g = grad + weight_decay · param
//   exp_avg = β1 · exp_avg + (1 − β1) · g            exp_avg_sq = β2 · exp_avg_sq + (1 − β2) · g²
//   param −= (lr / (1 − β1^t)) · exp_avg / (√exp_avg_sq / √(1 − β2^t) + eps)
// where t is the step's number (1 for the first). Float arithmetic, each operation rounded on its own.
#pragma once
#include <cstdint>

#include "nn/tensor.h"

namespace sc {

struct AdamParams {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

// The per-step constants in float, from the step number: what both back ends compute with.
struct AdamScalars {
  float lr_corrected, beta1, one_minus_beta1, beta2, one_minus_beta2, sqrt_correction2, eps, weight_decay;
};
AdamScalars adam_scalars(const AdamParams& p, int64_t step);

namespace ops {
void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, int64_t step,
               const AdamParams& p);
}
namespace cpu {
void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, const AdamScalars& s);
}
namespace cuda {
void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, const AdamScalars& s);
}
}  // namespace sc
