#include <cmath>

#include "kernels/group_norm.h"
#include "kernels/per_channel_check.h"

namespace sc::cpu {

void group_norm(const Tensor& x, int64_t G, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), P = plane_size(x), Cg = C / G, len = Cg * P;
  const float *xp = x.data<float>(), *g = gamma.data<float>(), *b = beta.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t grp = 0; grp < G; ++grp) {
      const float* xi = xp + (n * C + grp * Cg) * P;
      double sum = 0, sum2 = 0;
      for (int64_t i = 0; i < len; ++i) sum += xi[i];
      const double mean = sum / static_cast<double>(len);
      for (int64_t i = 0; i < len; ++i) sum2 += (xi[i] - mean) * (xi[i] - mean);
      const double inv = 1.0 / std::sqrt(sum2 / static_cast<double>(len) + eps);
      for (int64_t c = 0; c < Cg; ++c) {
        const int64_t ch = grp * Cg + c;
        for (int64_t p = 0; p < P; ++p) {
          const int64_t k = (n * C + ch) * P + p;
          yp[k] = static_cast<float>((xp[k] - mean) * inv) * g[ch] + b[ch];
        }
      }
    }
}

}  // namespace sc::cpu
