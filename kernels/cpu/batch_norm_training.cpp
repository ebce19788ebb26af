#include "kernels/batch_norm_training.h"

#include <cmath>

#include "kernels/per_channel_check.h"

namespace sc::cpu {

void batch_norm_statistics(const Tensor& x, Tensor& stats) {
  const int64_t N = x.size(0), C = x.size(1), P = plane_size(x);
  const float* xp = x.data<float>();
  float* sp = stats.data<float>();
  const double count = static_cast<double>(N * P);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0.0, squares = 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < P; ++i) sum += xp[(n * C + c) * P + i];
    const double mean = sum / count;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < P; ++i) {
        const double d = xp[(n * C + c) * P + i] - mean;
        squares += d * d;
      }
    sp[c] = static_cast<float>(mean);
    sp[C + c] = static_cast<float>(squares / count);
  }
}

void batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& stats,
                         double eps, BatchNormGradients& g) {
  const int64_t N = x.size(0), C = x.size(1), P = plane_size(x);
  const float *xp = x.data<float>(), *gp = dy.data<float>(), *wp = weight.data<float>();
  const float* sp = stats.data<float>();
  float *dxp = g.dx.data<float>(), *dwp = g.dweight.data<float>(), *dbp = g.dbias.data<float>();
  const double count = static_cast<double>(N * P);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    const double mean = sp[c], invstd = 1.0 / std::sqrt(static_cast<double>(sp[C + c]) + eps);
    double sum_dy = 0.0, sum_dy_centred = 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < P; ++i) {
        const int64_t k = (n * C + c) * P + i;
        sum_dy += gp[k];
        sum_dy_centred += gp[k] * (xp[k] - mean);
      }
    dbp[c] = static_cast<float>(sum_dy);
    dwp[c] = static_cast<float>(sum_dy_centred * invstd);
    // dx = a·dy + b·(x − μ) + d, the formula of the header with its per-channel factors gathered.
    const double a = wp[c] * invstd, b = -a * invstd * invstd * sum_dy_centred / count,
                 d = -a * sum_dy / count;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < P; ++i) {
        const int64_t k = (n * C + c) * P + i;
        dxp[k] = static_cast<float>(a * gp[k] + b * (xp[k] - mean) + d);
      }
  }
}

}  // namespace sc::cpu
