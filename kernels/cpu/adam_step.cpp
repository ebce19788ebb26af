#include "kernels/adam_step.h"

#include <cmath>

namespace sc::cpu {

void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, const AdamScalars& s) {
  float* w = param.data<float>();
  const float* g = grad.data<float>();
  float* m = exp_avg.data<float>();
  float* v = exp_avg_sq.data<float>();
  const int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float d = g[i] + s.weight_decay * w[i];
    m[i] = s.beta1 * m[i] + s.one_minus_beta1 * d;
    v[i] = s.beta2 * v[i] + s.one_minus_beta2 * d * d;
    const float denom = std::sqrt(v[i]) / s.sqrt_correction2 + s.eps;
    w[i] -= s.lr_corrected * (m[i] / denom);
  }
}

}  // namespace sc::cpu
