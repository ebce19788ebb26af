#include "kernels/last_dim_affine.h"

namespace sc::cpu {

void last_dim_affine(const Tensor& x, const Tensor& scale, const Tensor& shift, Tensor& y) {
  const int64_t C = x.size(-1), n = x.numel();
  const float *xp = x.data<float>(), *s = scale.defined() ? scale.data<float>() : nullptr,
              *b = shift.defined() ? shift.data<float>() : nullptr;
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % C;
    yp[i] = (s ? xp[i] * s[c] : xp[i]) + (b ? b[c] : 0.0f);
  }
}

}  // namespace sc::cpu
