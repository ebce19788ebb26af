#include <cmath>

#include "kernels/batch_norm.h"
#include "kernels/per_channel_check.h"

namespace sc::cpu {

void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                double eps, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), P = plane_size(x);
  const float *xp = x.data<float>(), *g = gamma.data<float>(), *b = beta.data<float>();
  const float *m = mean.data<float>(), *v = var.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const float inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(v[c]) + eps));
      const float* xi = xp + (n * C + c) * P;
      float* yi = yp + (n * C + c) * P;
      for (int64_t i = 0; i < P; ++i) yi[i] = (xi[i] - m[c]) * inv * g[c] + b[c];
    }
}

}  // namespace sc::cpu
