#include "kernels/argmax.h"
#include "kernels/argmax_order.h"

namespace sc::cpu {

void argmax(const Tensor& x, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1);
  const float* xp = x.data<float>();
  int64_t* yp = y.data<int64_t>();
#pragma omp parallel for schedule(static) if (N > 1024)
  for (int64_t n = 0; n < N; ++n) {
    const float* xi = xp + n * C;
    int64_t best = 0;
    for (int64_t c = 1; c < C; ++c)
      if (argmax_better(xi[c], c, xi[best], best)) best = c;
    yp[n] = best;
  }
}

}  // namespace sc::cpu
