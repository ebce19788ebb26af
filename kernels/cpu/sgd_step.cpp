#include "kernels/sgd_step.h"

namespace sc::cpu {

void sgd_step(Tensor& param, const Tensor& grad, Tensor& buffer, const SgdParams& p) {
  float* w = param.data<float>();
  const float* g = grad.data<float>();
  float* b = p.momentum > 0 ? buffer.data<float>() : nullptr;
  const float lr = static_cast<float>(p.lr), m = static_cast<float>(p.momentum);
  const float wd = static_cast<float>(p.weight_decay);
  const int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float d = g[i] + wd * w[i];
    if (b) {
      b[i] = m * b[i] + d;
      d = p.nesterov ? d + m * b[i] : b[i];
    }
    w[i] -= lr * d;
  }
}

}  // namespace sc::cpu
