#include "kernels/channel_normalize.h"
#include "kernels/per_channel_check.h"

namespace sc::cpu {

void channel_normalize(const Tensor& x, const Tensor& mean, const Tensor& std, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), P = plane_size(x);
  const float *xp = x.data<float>(), *m = mean.data<float>(), *s = std.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < P; ++i) {
        const int64_t k = (n * C + c) * P + i;
        yp[k] = (xp[k] - m[c]) / s[c];
      }
}

}  // namespace sc::cpu
