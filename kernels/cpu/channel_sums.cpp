#include "kernels/channel_sums.h"

#include "kernels/per_channel_check.h"

namespace sc::cpu {

void channel_sums(const Tensor& x, Tensor& s) {
  const int64_t N = x.size(0), C = x.size(1), P = plane_size(x);
  const float* xp = x.data<float>();
  float* sp = s.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      const float* plane = xp + (n * C + c) * P;
      for (int64_t i = 0; i < P; ++i) sum += plane[i];
    }
    sp[c] = static_cast<float>(sum);
  }
}

}  // namespace sc::cpu
